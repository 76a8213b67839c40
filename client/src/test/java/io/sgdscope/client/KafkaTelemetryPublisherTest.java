package io.sgdscope.client;

import static io.sgdscope.client.MinimalRecords.iteration;
import static io.sgdscope.client.MinimalRecords.runFinished;
import static io.sgdscope.client.MinimalRecords.runStarted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KafkaTelemetryPublisherTest {

    private static final Node NODE = new Node(1, "localhost", 9092);
    private static final Cluster CLUSTER = new Cluster("test", List.of(NODE),
            List.of(new PartitionInfo(Topics.RUNS, 0, NODE, new Node[] {NODE}, new Node[] {NODE}),
                    new PartitionInfo(Topics.ITERATIONS, 0, NODE, new Node[] {NODE}, new Node[] {NODE}),
                    new PartitionInfo(Topics.SPECTRA, 0, NODE, new Node[] {NODE}, new Node[] {NODE})),
            Set.of(), Set.of());

    /**
     * A MockProducer that, like KafkaProducer when buffer.memory is exhausted for max.block.ms,
     * refuses the next sends: it calls the callback with a BufferExhaustedException inside send()
     * and returns a failed future.
     */
    private static final class FullBufferProducer extends MockProducer<String, byte[]> {
        final AtomicInteger refusals = new AtomicInteger();
        final AtomicInteger attempts = new AtomicInteger();
        volatile RuntimeException refusal = new BufferExhaustedException("Failed to allocate memory within the "
                + "configured max blocking time 250 ms.");

        FullBufferProducer(boolean autoComplete) {
            super(CLUSTER, autoComplete, null, new StringSerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            attempts.incrementAndGet();
            if (refusals.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                RuntimeException e = refusal;
                callback.onCompletion(null, e);
                return CompletableFuture.failedFuture(e);
            }
            return super.send(record, callback);
        }
    }

    @Test
    void recordsGoToTheirTopicsKeyedByRunAndDecodeBack() {
        FullBufferProducer producer = new FullBufferProducer(true);
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1))) {
            publisher.runStarted(runStarted("e-r00000"));
            for (int t = 0; t < 3; t++) {
                publisher.iteration(iteration("e-r00000", t));
            }
            publisher.runFinished(runFinished("e-r00000", 3, publisher.droppedRecords("e-r00000")));

            List<ProducerRecord<String, byte[]>> sent = producer.history();
            assertEquals(5, sent.size());
            assertEquals(Topics.RUNS, sent.get(0).topic());
            assertEquals("e-r00000/started", sent.get(0).key());
            assertInstanceOf(RunStarted.class, TelemetrySerdes.runs().deserialize(Topics.RUNS, sent.get(0).value()));
            for (int t = 0; t < 3; t++) {
                ProducerRecord<String, byte[]> record = sent.get(1 + t);
                assertEquals(Topics.ITERATIONS, record.topic());
                assertEquals("e-r00000", record.key());
                assertEquals(t, TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, record.value()).getIteration());
            }
            assertEquals("e-r00000/finished", sent.get(4).key());
            RunFinished finished = (RunFinished) TelemetrySerdes.runs().deserialize(Topics.RUNS, sent.get(4).value());
            assertEquals(0, finished.getDroppedRecords());
            assertEquals(5, publisher.sentRecords());
        }
    }

    @Test
    void anIterationThatCannotBeEnqueuedInTimeIsDroppedAndCountedAgainstItsRun() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        publisher.runStarted(runStarted("a"));
        publisher.runStarted(runStarted("b"));
        publisher.iteration(iteration("a", 0));
        producer.refusals.set(2);
        publisher.iteration(iteration("a", 1));                 // dropped
        publisher.iteration(iteration("b", 0));                 // dropped
        publisher.iteration(iteration("a", 2));

        assertEquals(1, publisher.droppedRecords("a"));
        assertEquals(1, publisher.droppedRecords("b"));
        assertEquals(2, publisher.droppedRecords());
        assertEquals(0, publisher.failedRecords());
        List<Integer> sentOfA = producer.history().stream().filter(r -> "a".equals(r.key()))
                .map(r -> TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, r.value()).getIteration()).toList();
        assertEquals(List.of(0, 2), sentOfA);
        publisher.close();
    }

    @Test
    void spectraGoToTheSpectraTopicKeyedByRunAndOneThatCannotBeEnqueuedIsDroppedAndCounted() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        publisher.runStarted(runStarted("a"));
        publisher.spectrum(spectrum("a", 0));
        producer.refusals.set(1);
        publisher.spectrum(spectrum("a", 10));                  // dropped
        publisher.iteration(iteration("a", 11));

        assertEquals(1, publisher.droppedRecords("a"));
        assertEquals(1, publisher.droppedSpectra());
        assertEquals(0, publisher.droppedRecords());
        List<ProducerRecord<String, byte[]>> spectra = producer.history().stream()
                .filter(r -> Topics.SPECTRA.equals(r.topic())).toList();
        assertEquals(1, spectra.size());
        assertEquals("a", spectra.get(0).key());
        SpectrumSnapshot decoded = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, spectra.get(0).value());
        assertEquals(0, decoded.getIteration());
        assertEquals(List.of(3.0, 2.0), decoded.getHessianEigenvalues());
        publisher.close();
    }

    @Test
    void runRecordsAreOfferedAgainWhileTheBufferIsFullInsteadOfDropped() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(5));
        producer.refusals.set(3);
        publisher.runStarted(runStarted("a"));
        producer.refusals.set(3);
        publisher.runFinished(runFinished("a", 0, 0));
        assertEquals(List.of("a/started", "a/finished"), producer.history().stream().map(ProducerRecord::key).toList());
        assertEquals(0, publisher.droppedRecords());
        publisher.close();
    }

    @Test
    void aRunRecordThatCannotBeEnqueuedWithinTheControlTimeoutFailsLoudly() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofMillis(200));
        producer.refusals.set(Integer.MAX_VALUE);
        TelemetryException e = assertThrows(TelemetryException.class, () -> publisher.runStarted(runStarted("a")));
        assertTrue(e.getMessage().startsWith("could not hand a/started to the Kafka producer"), e.getMessage());
        assertInstanceOf(BufferExhaustedException.class, e.getCause());
        publisher.close();
    }

    @Test
    void aRunRecordTheProducerRejectsForGoodFailsAtOnceWithoutRetrying() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(30));
        producer.refusal = new RecordTooLargeException("The message is 2000000 bytes when serialized");
        producer.refusals.set(Integer.MAX_VALUE);
        TelemetryException e = assertThrows(TelemetryException.class, () -> publisher.runStarted(runStarted("a")));
        assertEquals("the Kafka producer refused a/started", e.getMessage());
        assertEquals(1, producer.attempts.get());
        publisher.close();
    }

    @Test
    void deliveryFailuresAfterEnqueueAreCountedAndChargedToTheRun() {
        FullBufferProducer producer = new FullBufferProducer(false);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        publisher.runStarted(runStarted("a"));
        publisher.iteration(iteration("a", 0));
        publisher.iteration(iteration("a", 1));
        assertTrue(producer.completeNext());                                       // RunStarted delivered
        assertTrue(producer.errorNext(new TimeoutException("Expiring 1 record(s): delivery timeout")));
        assertTrue(producer.completeNext());
        assertEquals(1, publisher.failedRecords());
        assertEquals(0, publisher.droppedRecords());
        assertEquals(1, publisher.droppedRecords("a"));
        publisher.close();
    }

    @Test
    void aRunFinishedWaitsUntilTheRunsLastRecordsAreOnTheBroker() throws Exception {
        FullBufferProducer producer = new FullBufferProducer(false);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(10));
        publisher.runStarted(runStarted("a"));
        publisher.iteration(iteration("a", 0));
        publisher.iteration(iteration("a", 1));
        Thread finisher = new Thread(() -> publisher.runFinished(runFinished("a", 2, 0)));
        finisher.start();
        Thread.sleep(300);
        assertEquals(3, producer.history().size(), "no RunFinished while the last iteration is unacknowledged");
        assertTrue(producer.completeNext());   // RunStarted
        assertTrue(producer.completeNext());   // iteration 0
        assertTrue(finisher.isAlive(), "iteration 1 is still not acknowledged");
        assertTrue(producer.completeNext());   // iteration 1
        finisher.join(5_000);
        assertEquals(4, producer.history().size());
        assertEquals(Topics.runFinishedKey("a"), producer.history().get(3).key());
        publisher.close();
    }

    @Test
    void lostRecordsAreCountedByType() {
        FullBufferProducer producer = new FullBufferProducer(false);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofMillis(200));

        publisher.runStarted(runStarted("a"));
        producer.completeNext();
        producer.refusals.set(2);
        publisher.iteration(iteration("a", 0));                 // dropped
        publisher.spectrum(spectrum("a", 0));                   // dropped
        publisher.iteration(iteration("a", 1));
        producer.errorNext(new RecordTooLargeException("too large"));   // failed
        producer.refusal = new RecordTooLargeException("refused for good");
        producer.refusals.set(1);
        assertThrows(TelemetryException.class, () -> publisher.runFinished(runFinished("a", 2, 0)));  // dropped

        assertEquals(1, dropped(publisher, "iteration"));
        assertEquals(1, dropped(publisher, "spectrum"));
        assertEquals(1, dropped(publisher, "run_finished"));
        assertEquals(0, dropped(publisher, "run_started"));
        assertEquals(1, failed(publisher, "iteration"));
        assertEquals(0, failed(publisher, "run_started") + failed(publisher, "run_finished") + failed(publisher, "spectrum"));
        publisher.close(Duration.ZERO);
    }

    @Test
    void theDeliveryOfARunFinishedTellsWhetherItFailed() {
        MockProducer<String, byte[]> producer = new MockProducer<>(CLUSTER, false, null, new StringSerializer(),
                new ByteArraySerializer());
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        publisher.runStarted(runStarted("a"));
        publisher.runStarted(runStarted("b"));
        producer.completeNext();
        producer.completeNext();
        publisher.runFinished(runFinished("a", 0, 0));
        publisher.runFinished(runFinished("b", 0, 0));
        Delivery a = publisher.finishedDelivery("a");
        assertFalse(a.isDone(), "not acknowledged yet");
        producer.completeNext();                                 // a's RunFinished delivered
        producer.errorNext(new TimeoutException("Expiring 1 record(s): 120000 ms has passed"));  // b's failed
        assertTrue(a.await(Duration.ofSeconds(1)));
        assertFalse(a.failed());
        Delivery b = publisher.finishedDelivery("b");
        assertTrue(b.await(Duration.ofSeconds(1)));
        assertTrue(b.failed());
        assertEquals(1, publisher.failedRecords(KafkaTelemetryPublisher.RecordType.RUN_FINISHED));
        assertTrue(publisher.finishedDelivery("a").isDone() && !publisher.finishedDelivery("a").failed(),
                "a delivered RunFinished is not remembered");
        publisher.close(Duration.ZERO);
    }

    @Test
    void framesGoToTheIterationsTopicUnderTheirFrameKeyAndDecodeBack() {
        FullBufferProducer producer = new FullBufferProducer(true);
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1))) {
            for (String runId : List.of("e-r00000", "e-r00001", "e-r00002")) {
                publisher.runStarted(framedRunStarted(runId, "e-r00000"));
            }
            Frame all = frame(0, "e-r00000", "e-r00001", "e-r00002");
            Frame rest = frame(1, "e-r00001", "e-r00002");           // run 0 ended: the key stays
            publisher.frame("e-r00000", all);
            publisher.frame("e-r00000", rest);

            List<ProducerRecord<String, byte[]>> frames = producer.history().stream()
                    .filter(r -> r.topic().equals(Topics.ITERATIONS)).toList();
            assertEquals(List.of("e-r00000", "e-r00000"), frames.stream().map(ProducerRecord::key).toList());
            assertEquals(all, TelemetrySerdes.frames().deserialize(Topics.ITERATIONS, frames.get(0).value()));
            assertEquals(rest, TelemetrySerdes.frames().deserialize(Topics.ITERATIONS, frames.get(1).value()));
            assertEquals(3 + 3 + 2, publisher.sentRecords(), "3 RunStarted, then 5 run-iterations in 2 frames");
        }
    }

    @Test
    void aSnapshotOfARunInFramesCarriesItsRunsFrameKeySoTheStreamsAppsMeetItWithTheFrames() {
        FullBufferProducer producer = new FullBufferProducer(true);
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1))) {
            publisher.runStarted(framedRunStarted("e-r00001", "e-r00000"));
            publisher.runStarted(runStarted("alone"));
            publisher.spectrum(spectrum("e-r00001", 10));
            publisher.spectrum(spectrum("alone", 10));

            List<ProducerRecord<String, byte[]>> spectra = producer.history().stream()
                    .filter(r -> Topics.SPECTRA.equals(r.topic())).toList();
            assertEquals(List.of("e-r00001", "alone"), spectra.stream().map(ProducerRecord::key).toList(), "keyed by run id");
            SpectrumSnapshot framed = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, spectra.get(0).value());
            SpectrumSnapshot alone = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, spectra.get(1).value());
            assertEquals("e-r00000", framed.getFrameKey());
            assertEquals(null, alone.getFrameKey(), "a run publishing per run keeps no frame key");
            assertEquals(SpectrumSnapshot.newBuilder(spectrum("e-r00001", 10)).setFrameKey("e-r00000").build(), framed,
                    "nothing else changes");
        }
    }

    @Test
    void aDroppedFrameLosesOneRecordOfEachOfItsRuns() {
        FullBufferProducer producer = new FullBufferProducer(true);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        for (String runId : List.of("a", "b", "c", "d")) {
            publisher.runStarted(framedRunStarted(runId, runId.equals("d") ? "d" : "a"));
        }
        publisher.frame("a", frame(0, "a", "b", "c"));
        producer.refusals.set(1);
        publisher.frame("a", frame(1, "a", "b", "c"));           // dropped: 3 run-iterations lost
        publisher.frame("d", frame(1, "d"));
        publisher.frame("a", frame(2, "b", "c"));

        assertEquals(1, publisher.droppedRecords("a"));
        assertEquals(1, publisher.droppedRecords("b"));
        assertEquals(1, publisher.droppedRecords("c"));
        assertEquals(0, publisher.droppedRecords("d"));
        assertEquals(3, publisher.droppedRecords());
        assertEquals(3, dropped(publisher, "iteration"), "the counter counts run-iterations");
        assertEquals(0, failed(publisher, "iteration"));
        publisher.close();
    }

    @Test
    void aFrameThatFailsAfterEnqueueIsChargedToEachOfItsRuns() {
        FullBufferProducer producer = new FullBufferProducer(false);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(1));
        publisher.runStarted(framedRunStarted("a", "a"));
        publisher.runStarted(framedRunStarted("b", "a"));
        publisher.frame("a", frame(0, "a", "b"));
        publisher.frame("a", frame(1, "a", "b"));
        assertTrue(producer.completeNext());                                       // RunStarted a
        assertTrue(producer.completeNext());                                       // RunStarted b
        assertTrue(producer.completeNext());                                       // frame 0
        assertTrue(producer.errorNext(new TimeoutException("Expiring 1 record(s): delivery timeout")));  // frame 1
        assertEquals(2, publisher.failedRecords());
        assertEquals(2, failed(publisher, "iteration"));
        assertEquals(0, publisher.droppedRecords());
        assertEquals(1, publisher.droppedRecords("a"));
        assertEquals(1, publisher.droppedRecords("b"));
        publisher.close(Duration.ZERO);
    }

    @Test
    void theRunFinishedOfARunInFramesWaitsUntilTheLatestFrameOfItsKeyIsOnTheBroker() throws Exception {
        FullBufferProducer producer = new FullBufferProducer(false);
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(10));
        publisher.runStarted(framedRunStarted("a", "a"));
        publisher.runStarted(framedRunStarted("b", "a"));
        publisher.frame("a", frame(0, "a", "b"));
        publisher.frame("a", frame(1, "a", "b"));
        assertFalse(publisher.delivery("b").isDone());
        Thread finisher = new Thread(() -> publisher.runFinished(runFinished("b", 2, 0)));
        finisher.start();
        Thread.sleep(300);
        assertEquals(4, producer.history().size(), "no RunFinished while the last frame is unacknowledged");
        assertTrue(producer.completeNext());   // RunStarted a
        assertTrue(producer.completeNext());   // RunStarted b
        assertTrue(producer.completeNext());   // frame 0
        assertTrue(finisher.isAlive(), "frame 1 is still not acknowledged");
        assertTrue(producer.completeNext());   // frame 1
        finisher.join(5_000);
        assertEquals(Topics.runFinishedKey("b"), producer.history().get(4).key());
        assertTrue(publisher.delivery("a").isDone());
        publisher.close(Duration.ZERO);
    }

    /** A frame of the given runs at iteration t with the required columns: loss = t + run index / 10. */
    static Frame frame(int t, String... runIds) {
        int n = runIds.length;
        double[] loss = new double[n];
        double[] ones = new double[n];
        double[] five = new double[n];
        for (int i = 0; i < n; i++) {
            loss[i] = t + i / 10.0;
            ones[i] = 1.0;
            five[i] = 5;
        }
        return Frame.builder("e", t, 0, runIds).column(FrameColumn.LOSS, loss).column(FrameColumn.MINIBATCH_LOSS, ones)
                .column(FrameColumn.STEP_SIZE, ones).column(FrameColumn.BATCH_SIZE, five).column(FrameColumn.SG_NORM, ones)
                .build();
    }

    /** A RunStarted whose iterations go out in the frames under {@code frameKey}. */
    static RunStarted framedRunStarted(String runId, String frameKey) {
        RunStarted started = runStarted(runId);
        started.setFrameKey(frameKey);
        return started;
    }

    private static long dropped(KafkaTelemetryPublisher publisher, String type) {
        return publisher.droppedRecords(recordType(type));
    }

    private static long failed(KafkaTelemetryPublisher publisher, String type) {
        return publisher.failedRecords(recordType(type));
    }

    private static KafkaTelemetryPublisher.RecordType recordType(String label) {
        for (KafkaTelemetryPublisher.RecordType type : KafkaTelemetryPublisher.RecordType.values()) {
            if (type.label().equals(label)) {
                return type;
            }
        }
        throw new IllegalArgumentException(label);
    }

    @Test
    void theFirstRunStartedWaitsUntilTheTopicsAreKnown() {
        AtomicInteger lookups = new AtomicInteger();
        MockProducer<String, byte[]> producer = new MockProducer<>(CLUSTER, true, null, new StringSerializer(),
                new ByteArraySerializer()) {
            @Override
            public List<PartitionInfo> partitionsFor(String topic) {
                if (lookups.incrementAndGet() <= 3) {
                    throw new TimeoutException("Topic " + topic + " not present in metadata after 250 ms.");
                }
                return super.partitionsFor(topic);
            }
        };
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofSeconds(10));
        publisher.runStarted(runStarted("a"));
        assertEquals(5, lookups.get());                           // 3 timeouts, then both topics found
        publisher.runStarted(runStarted("b"));
        assertEquals(5, lookups.get());                           // only before the first run
        assertEquals(2, producer.history().size());
        publisher.close();
    }

    @Test
    void missingTopicsFailWithAMessageNamingThem() {
        MockProducer<String, byte[]> producer = new MockProducer<>(Cluster.empty(), true, null, new StringSerializer(),
                new ByteArraySerializer());
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofMillis(300));
        TelemetryException e = assertThrows(TelemetryException.class, () -> publisher.runStarted(runStarted("a")));
        assertEquals("topic sgd.runs is not available after 0.3 s: is the cluster reachable and the topic created?",
                e.getMessage());
        publisher.close();
    }

    @Test
    void producerSettingsFitTelemetryAndExtraPropertiesOverrideThem() {
        Map<String, Object> defaults = KafkaTelemetryPublisher.producerProperties("h:9092", null);
        assertEquals("h:9092", defaults.get("bootstrap.servers"));
        assertEquals(true, defaults.get("enable.idempotence"));
        assertEquals("all", defaults.get("acks"));
        assertEquals(20, defaults.get("linger.ms"));
        assertEquals(256 * 1024, defaults.get("batch.size"));
        assertEquals(250, defaults.get("max.block.ms"));
        assertEquals(32L * 1024 * 1024, defaults.get("buffer.memory"));
        assertEquals("lz4", defaults.get("compression.type"));

        Map<String, Object> secured = KafkaTelemetryPublisher.producerProperties("h:9092",
                Map.of("security.protocol", "SSL", "linger.ms", 5));
        assertEquals("SSL", secured.get("security.protocol"));
        assertEquals(5, secured.get("linger.ms"));
        assertEquals("all", secured.get("acks"));
    }

    static SpectrumSnapshot spectrum(String runId, int t) {
        List<Double> two = List.of(3.0, 2.0);
        return SpectrumSnapshot.newBuilder()
                .setRunId(runId).setExperimentId("e").setIteration(t).setTimestampMillis(0).setPrecision("float64")
                .setTopK(2).setHessianEigenvalues(two).setHessianResiduals(two).setSecondMomentEigenvalues(two)
                .setSecondMomentResiduals(two).setPredictionHessianEigenvalues(two).setPredictionHessianResiduals(two)
                .setPrincipalAngleCosines(two).setHessianLayerLoadings(List.of(List.of(1.0), List.of(1.0)))
                .setDavisKahanBounds(List.of(1.0)).setProbeSeconds(0.0).build();
    }
}
