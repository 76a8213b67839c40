package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.AvroLimits;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.ExperimentStatuses;
import io.sgdscope.streams.quantiles.QuantileBands;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.streams.quantiles.QuantilesTopology;
import io.sgdscope.streams.runs.InvalidRecordException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.SystemLimitException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records that decode but cannot be processed, on the quantiles topology and the test driver: each goes to
 * the dead-letter topic with its reason, is counted, and the next record is processed.
 */
class FailedRecordsTest {

    private static final String EXPERIMENT = "gauss10";
    private static final QuantilesSettings SETTINGS = QuantilesSettings.defaults()
            .withBatching(1, Duration.ofMillis(100))
            .withMetrics(List.of("loss", "hessianTopEigenvalue"));

    @TempDir
    Path stateDir;

    private TopologyOnDriver app;
    private PrometheusMeterRegistry registry;
    private TopologyTestDriver driver;
    private TestInputTopic<String, IterationMetrics> iterations;
    private TestInputTopic<String, SpecificRecord> runs;
    private TestOutputTopic<String, QuantileSummary> quantiles;
    private TestOutputTopic<String, byte[]> deadLetters;

    @BeforeEach
    void startDriver() {
        app = new TopologyOnDriver(stateDir, meters -> new QuantilesTopology(SETTINGS, 0, new QuantileBands(meters),
                new ExperimentStatuses(meters), meters, TopologyOnDriver.CLOCK).build());
        registry = app.registry;
        driver = app.driver;
        iterations = app.iterations;
        runs = app.runs;
        quantiles = app.output(Topics.QUANTILES, TelemetrySerdes.quantiles());
        deadLetters = app.output(Topics.DEAD_LETTERS, new ByteArrayDeserializer());
    }

    @AfterEach
    void closeDriver() {
        app.close();
    }

    @Test
    void aRunStartedWithAnIdTooLongForTheRepartitionTopicIsDeadLetteredWithItsReasonAndTheAppGoesOn() {
        String hugeId = "r".repeat(70_000); // over the 65,535 bytes an internal record can hold
        runs.pipeInput(Topics.runStartedKey(hugeId), Telemetry.started(EXPERIMENT, hugeId, 0, "sgd", 1150));
        iterations.pipeInput("run-a", Telemetry.iteration(EXPERIMENT, "run-a", 0, 0.5));

        TestRecord<String, byte[]> copy = deadLetters.readRecord();
        assertEquals(Topics.runStartedKey(hugeId), copy.key(), "the original key");
        assertTrue(Arrays.equals(TelemetrySerdes.runs().serialize(Topics.RUNS, Telemetry.started(EXPERIMENT, hugeId, 0, "sgd", 1150)),
                copy.value()), "the original bytes");
        assertEquals(InvalidRecordException.class.getName(), header(copy, "exception"));
        assertEquals("run id is 70000 characters long, at most 100 allowed ('rrrrrrrrrrrrrrrrrrrr...')", header(copy, "message"));
        assertEquals(Topics.RUNS, header(copy, "topic"));
        assertEquals("driver-test", header(copy, "application.id"));
        assertTrue(deadLetters.isEmpty(), "one copy");
        assertEquals(1.0, failed(Topics.RUNS, FailedRecordHandler.INVALID_ID));
        assertEquals(1, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0)).getCount(),
                "the record after it is processed");
    }

    @Test
    void anIterationOfExperimentDotDotIsDeadLetteredAndNotCounted() {
        iterations.pipeInput("run-b", Telemetry.iteration("..", "run-b", 0, 9.0));
        iterations.pipeInput("run-a", Telemetry.iteration(EXPERIMENT, "run-a", 0, 0.5));

        assertEquals("experiment id must not be '..' (it names a folder)", header(deadLetters.readRecord(), "message"));
        assertEquals(1.0, failed(Topics.ITERATIONS, FailedRecordHandler.INVALID_ID));
        assertEquals(1, quantiles.readKeyValuesToMap().size(), "only gauss10's loss at 0: nothing of experiment ..");
    }

    @Test
    void aRunFinishedThatCannotBeWrittenToTheRepartitionTopicIsDeadLetteredAsASerializationError() {
        RunFinished finished = Telemetry.finished(EXPERIMENT, "run-a", RunStatus.FAILED, 3, null);
        finished.setMessage("x".repeat(70_000)); // valid ids, but a string an internal record cannot hold
        runs.pipeInput(Topics.runFinishedKey("run-a"), finished);
        iterations.pipeInput("run-b", Telemetry.iteration(EXPERIMENT, "run-b", 0, 0.5));

        TestRecord<String, byte[]> copy = deadLetters.readRecord();
        assertEquals(Topics.runFinishedKey("run-a"), copy.key());
        assertTrue(header(copy, "message").contains("longer than 65535"), header(copy, "message"));
        assertEquals(1.0, failed(Topics.RUNS, FailedRecordHandler.SERIALIZATION_ERROR));
        assertEquals(1, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0)).getCount());
    }

    @Test
    void aSmallSpectrumClaimingAHugeArrayIsDeadLetteredWithoutAllocatingIt() {
        // 5 million doubles: 40 MB, under Avro's own allocation guard (a quarter of the heap), over our limit.
        byte[] claim = claimingArrayOf(5_000_000);
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(Topics.SPECTRA, new StringSerializer(), new ByteArraySerializer());
        raw.pipeInput("run-a", claim);
        iterations.pipeInput("run-a", Telemetry.iteration(EXPERIMENT, "run-a", 0, 0.5));

        TestRecord<String, byte[]> copy = deadLetters.readRecord();
        assertTrue(Arrays.equals(claim, copy.value()));
        String message = header(copy, "message");
        assertTrue(message.contains(SystemLimitException.class.getName()) && message.contains(String.valueOf(AvroLimits.MAX_COLLECTION_ITEMS)),
                "refused by the limit before reading any item: " + message);
        assertEquals(1.0, registry.get(MeterNames.UNREADABLE_RECORDS).tags(MeterNames.TAG_TOPIC, Topics.SPECTRA).counter().count());
        assertEquals(1, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0)).getCount());
    }

    private double failed(String topic, String reason) {
        return registry.get(MeterNames.FAILED_RECORDS)
                .tags(MeterNames.TAG_TOPIC, topic, MeterNames.TAG_REASON, reason, MeterNames.TAG_APPLICATION, "driver-test")
                .counter().count();
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader("__streams.errors." + name).value(), StandardCharsets.UTF_8);
    }

    /** A valid small SpectrumSnapshot whose one-eigenvalue array is rewritten to claim {@code items} items. */
    private static byte[] claimingArrayOf(int items) {
        double mark = 12345.678;
        SpectrumSnapshot snapshot = SpectrumSnapshot.newBuilder()
                .setRunId("run-a").setExperimentId(EXPERIMENT).setIteration(0).setTimestampMillis(0L).setPrecision("float64")
                .setTopK(1).setHessianEigenvalues(List.of(mark)).setHessianResiduals(List.of(0.0))
                .setSecondMomentEigenvalues(List.of(1.0)).setSecondMomentResiduals(List.of(0.0))
                .setPredictionHessianEigenvalues(List.of(1.0)).setPredictionHessianResiduals(List.of(0.0))
                .setPrincipalAngleCosines(List.of(1.0)).setHessianLayerLoadings(List.of()).setDavisKahanBounds(List.of())
                .setProbeSeconds(0.01)
                .build();
        byte[] bytes = TelemetrySerdes.spectra().serialize(Topics.SPECTRA, snapshot);
        byte[] markBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(mark).array();
        int at = -1;
        for (int i = 0; i + 8 <= bytes.length && at < 0; i++) {
            if (Arrays.equals(bytes, i, i + 8, markBytes, 0, 8)) {
                at = i - 1; // the block count before the item: zig-zag 1 = 0x02
            }
        }
        assertEquals(2, bytes[at]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, at);
        long zigZag = (long) items << 1;
        while ((zigZag & ~0x7FL) != 0) {
            out.write((int) ((zigZag & 0x7F) | 0x80));
            zigZag >>>= 7;
        }
        out.write((int) zigZag);
        out.write(bytes, at + 1, bytes.length - at - 1);
        return out.toByteArray();
    }
}
