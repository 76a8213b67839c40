package io.sgdscope.trainer.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.trainer.Engine;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The publisher against a real single-node Kafka broker, records read back with a consumer. */
class KafkaTelemetryPublisherIT {

    /** The trainer's topics with several partitions, so that "in order per run" is a real property of the keying. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(4, Topics.all().stream()
            .filter(spec -> List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA).contains(spec.name())).toList(),
            Topics.Spec::name, Topics.Spec::config);

    @Test
    void anExperimentOfThreeRunsPublishesEveryRecordInOrderPerRunWithNothingDropped() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("it").runs(3).iterations(20).workers(2)
                .curvature(CurvatureSettings.defaults().withMomentsEvery(5).withSpectrumEvery(10)).build();
        ExperimentResult result;
        long dropped;
        long failed;
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            // The per-run engine (the tests' reference) publishes an IterationMetrics per run, keyed by its run id, as
            // the clients that publish per run do; the ensemble engine's frames: below.
            result = io.sgdscope.trainer.PerRunEngine.experiment(settings, publisher, ExperimentListener.none()).run();
            publisher.flush();
            dropped = publisher.droppedRecords() + publisher.droppedSpectra();
            failed = publisher.failedRecords();
        }
        assertEquals(3, result.count(RunStatus.COMPLETED));
        assertEquals(0, dropped);
        assertEquals(0, failed);

        Map<String, List<Integer>> iterationsByKey = new HashMap<>();
        int iterations = 0;
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.ITERATIONS, 60, r -> r.key().startsWith("it-"))) {
            IterationMetrics metrics = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, record.value());
            assertEquals(record.key(), metrics.getRunId());
            iterationsByKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(metrics.getIteration());
            iterations++;
        }
        assertEquals(60, iterations);
        List<Integer> zeroTo19 = java.util.stream.IntStream.range(0, 20).boxed().toList();
        for (int r = 0; r < 3; r++) {
            assertEquals(zeroTo19, iterationsByKey.get(Experiment.runId("it", r)), "run " + r);
        }

        Map<String, List<Integer>> spectraByKey = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.SPECTRA, 6, r -> r.key().startsWith("it-"))) {
            SpectrumSnapshot spectrum = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, record.value());
            assertEquals(record.key(), spectrum.getRunId());
            assertEquals(15, spectrum.getHessianEigenvalues().size());
            spectraByKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(spectrum.getIteration());
        }
        for (int r = 0; r < 3; r++) {
            assertEquals(List.of(0, 10), spectraByKey.get(Experiment.runId("it", r)), "spectra of run " + r);
        }

        Map<String, SpecificRecord> runRecords = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.RUNS, 6, r -> r.key().startsWith("it-"))) {
            runRecords.put(record.key(), TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value()));
        }
        assertEquals(6, runRecords.size());
        for (int r = 0; r < 3; r++) {
            String runId = Experiment.runId("it", r);
            RunStarted started = assertInstanceOf(RunStarted.class, runRecords.get(Topics.runStartedKey(runId)));
            assertEquals(runId, started.getRunId());
            RunFinished finished = assertInstanceOf(RunFinished.class, runRecords.get(Topics.runFinishedKey(runId)));
            assertEquals(RunStatus.COMPLETED, finished.getStatus());
            assertEquals(20, finished.getIterations());
            assertEquals(0, finished.getDroppedRecords());
        }
    }

    @Test
    void anEnsembleExperimentsFramesReachTheBrokerUnderTheirRunsFrameKeyWithEveryRunIterationOnce() {
        // 40 runs in blocks of 16 (16 + 16 + 8) on 2 workers: 3 frame keys over 4 partitions.
        TrainerSettings settings = TrainerSettings.builder().experimentId("frames").runs(40).iterations(30).workers(2)
                .engine(Engine.ENSEMBLE).ensembleBlock(16).curvature(CurvatureSettings.off()).build();
        InMemoryTelemetrySink kept = new InMemoryTelemetrySink();
        ExperimentResult result;
        long lost;
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            result = new Experiment(settings, new BothSinks(publisher, kept), ExperimentListener.none()).run();
            publisher.flush();
            lost = publisher.droppedRecords() + publisher.failedRecords();
            assertEquals(40 * 2 + 40 * 30, publisher.sentRecords(), "starts, finishes and run-iterations");
        }
        assertEquals(40, result.count(RunStatus.COMPLETED));
        assertEquals(0, lost);

        Map<String, RunStarted> started = new HashMap<>();
        Map<String, RunFinished> finished = new HashMap<>();
        // The broker is shared with the other test: keep this experiment's records only.
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.RUNS, 80, r -> r.key().startsWith("frames-"))) {
            SpecificRecord value = TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value());
            if (value instanceof RunStarted s) {
                started.put(s.getRunId(), s);
            } else {
                finished.put(((RunFinished) value).getRunId(), (RunFinished) value);
            }
        }
        Map<String, List<Integer>> iterationsOfRun = new HashMap<>();
        List<Frame> decoded = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.ITERATIONS, 3 * 30, r -> r.key().startsWith("frames-"))) {
            Frame frame = TelemetrySerdes.frames().deserialize(Topics.ITERATIONS, record.value());
            decoded.add(frame);
            for (String runId : frame.runIds()) {
                assertEquals(record.key(), started.get(runId).getFrameKey(), runId + ": its frames' key");
                assertEquals(record.key(), finished.get(runId).getFrameKey(), runId + ": its frames' key");
                iterationsOfRun.computeIfAbsent(runId, k -> new ArrayList<>()).add(frame.iteration());
            }
        }
        assertEquals(3 * 30, decoded.size());
        List<Integer> zeroTo29 = java.util.stream.IntStream.range(0, 30).boxed().toList();
        for (int r = 0; r < 40; r++) {
            String runId = Experiment.runId("frames", r);
            assertEquals(zeroTo29, iterationsOfRun.get(runId), runId + ": every iteration once, in order");
            assertEquals(Experiment.runId("frames", r / 16 * 16), started.get(runId).getFrameKey());
            assertEquals(0, finished.get(runId).getDroppedRecords());
        }
        // What the broker holds is, bit for bit, what the trainer handed over.
        assertEquals(new java.util.HashSet<>(kept.frames()), new java.util.HashSet<>(decoded));
        assertEquals(kept.frames().size(), decoded.size());
    }

    /** Hands everything to both sinks. */
    private record BothSinks(TelemetrySink first, TelemetrySink second) implements TelemetrySink {
        @Override
        public void runStarted(RunStarted record) {
            first.runStarted(record);
            second.runStarted(record);
        }

        @Override
        public void iteration(IterationMetrics record) {
            first.iteration(record);
            second.iteration(record);
        }

        @Override
        public void frame(String frameKey, Frame frame) {
            first.frame(frameKey, frame);
            second.frame(frameKey, frame);
        }

        @Override
        public void runFinished(RunFinished record) {
            first.runFinished(record);
            second.runFinished(record);
        }

        @Override
        public long droppedRecords(String runId) {
            return first.droppedRecords(runId);
        }
    }

    private static void keep(ConsumerRecord<String, byte[]> record,
                             java.util.function.Predicate<ConsumerRecord<String, byte[]>> wanted,
                             List<ConsumerRecord<String, byte[]>> records) {
        if (wanted.test(record)) {
            records.add(record);
        }
    }

    /** Reads a topic from the start until {@code expected} records arrived (or 30 s passed). */
    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        return readAll(topic, expected, record -> true);
    }

    /** Reads the records of a topic that {@code wanted} keeps until {@code expected} arrived (or 30 s passed). */
    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected,
                                                                java.util.function.Predicate<ConsumerRecord<String, byte[]>> wanted) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> keep(r, wanted, records));
            }
            // One more short poll: more records than expected would be a bug too.
            consumer.poll(Duration.ofMillis(300)).forEach(r -> keep(r, wanted, records));
        }
        assertTrue(records.size() >= expected, "only " + records.size() + " of " + expected + " records on " + topic);
        return records;
    }
}
