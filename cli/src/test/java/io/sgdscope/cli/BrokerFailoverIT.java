package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.core.instrument.Counter;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.RunResult;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A broker fails under a running experiment: three brokers and a controller of their own, every topic with
 * three replicas of which two must be in sync (the internal ones too: consumer offsets, transaction state,
 * the apps' changelogs and repartition topics). The real trainer ({@link Experiment} publishing through
 * {@link KafkaTelemetryPublisher}, in blocks of one run so that every run's frames have a key of their own and
 * spread over the partitions) and both streams apps (exactly_once_v2) run; the broker that leads a
 * partition of sgd.iterations is stopped mid-experiment and started again. Training goes on while it is down
 * (the partition's new leader takes the records), and afterwards what read_committed consumers see counts
 * every (run, iteration) exactly once: nothing dropped, nothing doubled.
 */
class BrokerFailoverIT {

    private static final String EXPERIMENT = "it-broker-failover";
    private static final int RUNS = 20;
    private static final int ITERATIONS = 200;
    private static final int RECORDS = RUNS * ITERATIONS;
    private static final int PARTITIONS = 3;
    private static final int REPLICATION_FACTOR = 3;
    private static final int MIN_INSYNC_REPLICAS = 2;
    private static final TopicPartition FAILING = new TopicPartition(Topics.ITERATIONS, 0);
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final Path WORK = Path.of("target", "broker-failover-it");

    private ThreeBrokerCluster cluster;

    @BeforeEach
    void startCluster() throws Exception {
        System.out.println(LocalTime.now() + " starting the cluster");
        deleteRecursively(WORK);
        cluster = ThreeBrokerCluster.start(WORK.resolve("kafka").toAbsolutePath(), REPLICATION_FACTOR, MIN_INSYNC_REPLICAS);
        TopicSetup.ensureTopics(cluster.admin(), PARTITIONS, (short) REPLICATION_FACTOR);
        System.out.println(LocalTime.now() + " cluster and topics ready");
    }

    @AfterEach
    void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theLeaderOfAnIterationsPartitionStopsAndStartsAgainMidExperimentAndEveryIterationIsCountedOnce() throws Exception {
        String bootstrap = cluster.bootstrapServers();
        StreamsSettings streamsSettings = StreamsSettings.defaults(bootstrap, WORK.resolve("streams").toAbsolutePath())
                .withApplicationId("it-failover").withMetrics("127.0.0.1", 0);
        TrainerSettings settings = TrainerSettings.builder().experimentId(EXPERIMENT).runs(RUNS).iterations(ITERATIONS)
                .workers(2).ensembleBlock(1).curvature(CurvatureSettings.defaults().withSpectrumEvery(0)).build();

        // The loss alone: the quantiles app's work on 2 cores shared with 4 Kafka nodes and the trainer stays small.
        QuantilesSettings quantiles = QuantilesSettings.defaults().withMetrics(List.of("loss"));
        try (StreamsApps apps = StreamsApps.start(streamsSettings, quantiles, DeviationSettings.defaults())) {
            assertTrue(apps.awaitRunning(PATIENCE), "both apps run");
            System.out.println(LocalTime.now() + " apps running");
            FailoverScript script = new FailoverScript();
            ExperimentResult result;
            long failed;
            long dropped;
            try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(bootstrap, Map.of())) {
                Experiment experiment = new Experiment(settings, publisher, script);
                CompletableFuture<ExperimentResult> training = CompletableFuture.supplyAsync(experiment::run);
                try {
                    script.play();
                } catch (Throwable e) {
                    experiment.cancel();
                    throw e;
                } finally {
                    script.release(); // never leave the trainer waiting, whatever failed
                }
                result = training.get(PATIENCE.toSeconds() * 2, TimeUnit.SECONDS);
                System.out.println(LocalTime.now() + " training done");
                publisher.flush();
                failed = publisher.failedRecords();
                dropped = publisher.droppedRecords() + publisher.droppedSpectra();
            }

            // The trainer: every run completed, no record refused or lost by the producer.
            assertEquals(RUNS, result.runs().size());
            for (RunResult run : result.runs()) {
                assertEquals(RunStatus.COMPLETED, run.status(), run.runId());
            }
            assertEquals(0, dropped, "records the producer did not take");
            assertEquals(0, failed, "records the producer took but could not deliver");

            // What the trainer published: each (run, iteration) once, each run started and finished once, nothing dropped.
            // Blocks of one run: one frame per (run, iteration), each under its run's id, spread over the partitions.
            List<IterationMetrics> iterations = readCommitted(bootstrap, Topics.ITERATIONS,
                    bytes -> TelemetrySerdes.frames().deserializer().deserialize(Topics.ITERATIONS, bytes),
                    read -> read.size() >= RECORDS).stream().flatMap(frame -> frame.rows().stream()).toList();
            Map<String, Long> copies = iterations.stream()
                    .collect(Collectors.groupingBy(r -> r.getRunId() + "@" + r.getIteration(), Collectors.counting()));
            assertEquals(RECORDS, copies.size(), "distinct (run, iteration) on " + Topics.ITERATIONS);
            assertEquals(RECORDS, iterations.size(), "records on " + Topics.ITERATIONS + " (a duplicate: "
                    + copies.entrySet().stream().filter(e -> e.getValue() > 1).findFirst().orElse(null) + ")");
            List<SpecificRecord> runs = readCommitted(bootstrap, Topics.RUNS,
                    bytes -> TelemetrySerdes.runs().deserializer().deserialize(Topics.RUNS, bytes), read -> read.size() >= 2 * RUNS);
            List<RunFinished> finished = runs.stream().filter(RunFinished.class::isInstance).map(RunFinished.class::cast).toList();
            assertEquals(RUNS, runs.stream().filter(RunStarted.class::isInstance).count(), "RunStarted records");
            assertEquals(RUNS, finished.size(), "RunFinished records");
            for (RunFinished run : finished) {
                assertEquals(RunStatus.COMPLETED, run.getStatus(), run.getRunId());
                assertEquals(ITERATIONS, run.getIterations(), run.getRunId());
                assertEquals(0, run.getDroppedRecords(), run.getRunId() + " droppedRecords");
            }

            // The quantiles app: the committed summary of each iteration counts every run once.
            System.out.println(LocalTime.now() + " published records checked");
            Map<Integer, List<QuantileSummary>> loss = awaitLossSummaries(bootstrap, apps);
            System.out.println(LocalTime.now() + " quantiles complete");
            for (int t = 0; t < ITERATIONS; t++) {
                List<QuantileSummary> updates = loss.get(t);
                long previous = 0;
                for (QuantileSummary update : updates) {
                    long counted = update.getCount() + update.getNonFinite();
                    assertTrue(counted > previous && counted <= RUNS, "loss at t = " + t + ": committed counts must grow "
                            + "to " + RUNS + " and never repeat (a batch applied twice): "
                            + updates.stream().map(u -> u.getCount() + "+" + u.getNonFinite()).toList());
                    previous = counted;
                }
                assertEquals(RUNS, previous, "runs counted in the loss at t = " + t);
            }

            // The deviation app: no alert twice.
            List<DeviationAlert> alerts = readCommitted(bootstrap, Topics.ALERTS,
                    bytes -> TelemetrySerdes.alerts().deserializer().deserialize(Topics.ALERTS, bytes), null);
            assertEquals(alerts.size(), alerts.stream().map(a -> a.getRunId() + " " + a.getCheck() + " " + a.getIteration())
                    .distinct().count(), "alerts raised twice: " + alerts);

            // Both apps kept running, read everything and never met an iteration they had counted already.
            assertEquals(KafkaStreams.State.RUNNING, apps.quantiles().state());
            assertEquals(KafkaStreams.State.RUNNING, apps.deviation().state());
            awaitCommittedToTheEnd(apps.quantiles().applicationId());
            awaitCommittedToTheEnd(apps.deviation().applicationId());
            assertEquals(0, sum(apps.registry().find(MeterNames.LATE_RECORDS).counters()),
                    "records the quantiles app skipped as late (after their run's RunFinished)");
            assertEquals(0, sum(apps.registry().find(MeterNames.DEVIATION_SKIPPED_RECORDS).tag(MeterNames.TAG_REASON, "late")
                    .counters()), "records the deviation app skipped as late (after their run's RunFinished)");
            assertEquals(0, sum(apps.registry().find(MeterNames.DUPLICATE_ITERATION_RECORDS).counters()),
                    "iteration records the quantiles app had counted already");
            assertEquals(0, sum(apps.registry().find(MeterNames.DEVIATION_SKIPPED_RECORDS).tag(MeterNames.TAG_REASON, "duplicate")
                    .counters()), "iteration records the deviation app had counted already");
        }

        // What was tested: every topic, internal ones included, has the replicas it should.
        Map<String, List<Integer>> replicas = cluster.replicasOfEveryTopic();
        for (String topic : List.of("__consumer_offsets", "__transaction_state", Topics.ITERATIONS, Topics.QUANTILES)) {
            assertTrue(replicas.containsKey(topic), topic + " exists: " + replicas.keySet());
        }
        replicas.forEach((topic, perPartition) -> assertTrue(perPartition.stream().allMatch(r -> r == REPLICATION_FACTOR),
                topic + " replicas per partition: " + perPartition));
    }

    /**
     * Stops the broker that leads sgd.iterations' partition 0 a quarter into the experiment and starts it again.
     * As the experiment's listener it orders the trainer against the script, so that the outage falls inside the
     * experiment on a fast machine as on a slow one: past half of its records the trainer waits until the broker
     * is stopped (it has not paused: it publishes on while the broker stops), past nine tenths until the broker
     * is back in sync.
     */
    private final class FailoverScript implements ExperimentListener {
        private final AtomicInteger published = new AtomicInteger();
        private final CountDownLatch stopped = new CountDownLatch(1);
        private final CountDownLatch restarted = new CountDownLatch(1);
        private final CountDownLatch quarter = new CountDownLatch(1);

        @Override
        public void iterationDone(IterationMetrics record) {
            int n = published.incrementAndGet();
            if (n == RECORDS / 4) {
                quarter.countDown();
            }
            if (n >= RECORDS / 2) {
                await(stopped);
            }
            if (n >= RECORDS * 9 / 10) {
                await(restarted);
            }
        }

        void play() throws Exception {
            assertTrue(quarter.await(PATIENCE.toSeconds(), TimeUnit.SECONDS), "the trainer published a quarter of its records");
            int leader = cluster.leaderOf(FAILING);
            long before = cluster.endOffset(FAILING);
            System.out.printf(LocalTime.now() + " broker %d, leader of %s, stops after %d iteration records%n", leader, FAILING, published.get());
            cluster.stopBroker(leader);
            stopped.countDown();
            System.out.printf(LocalTime.now() + " broker %d stopped after %d iteration records%n", leader, published.get());

            // Down: the partition has a new leader, which takes the trainer's records.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long end = before;
            while (end < before + 50) {
                if (System.nanoTime() > deadline) {
                    fail(FAILING + " took " + (end - before) + " records in 30 s while broker " + leader + " was down");
                }
                try {
                    end = cluster.endOffset(FAILING);
                } catch (Exception e) {
                    // no leader (yet): ask again
                }
                Thread.sleep(100);
            }
            assertNotEquals(leader, cluster.leaderOf(FAILING), "the new leader of " + FAILING);
            assertTrue(cluster.inSyncReplicasOf(FAILING).size() >= MIN_INSYNC_REPLICAS, "ISR while down");

            System.out.printf(LocalTime.now() + " %s took %d records while broker %d was down; starting it again after %d iteration records%n",
                    FAILING, end - before, leader, published.get());
            cluster.startBroker(leader);
            cluster.awaitFullIsr(Topics.ITERATIONS, PATIENCE);
            System.out.printf(LocalTime.now() + " broker %d in sync again after %d iteration records%n", leader, published.get());
            assertTrue(cluster.inSyncReplicasOf(FAILING).contains(leader), "broker " + leader + " in sync again");
            restarted.countDown();
        }

        void release() {
            stopped.countDown();
            restarted.countDown();
        }

        private void await(CountDownLatch latch) {
            try {
                latch.await(PATIENCE.toSeconds() * 2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The loss summaries of each iteration of the experiment, in the order committed, once every run is counted. */
    private Map<Integer, List<QuantileSummary>> awaitLossSummaries(String bootstrap, StreamsApps apps) {
        Map<Integer, List<QuantileSummary>> byIteration = new HashMap<>();
        readCommitted(bootstrap, Topics.QUANTILES, () -> "the apps are " + apps.quantiles().state() + " and "
                + apps.deviation().state() + "; records of finished runs skipped as late by the quantiles app: "
                + sum(apps.registry().find(MeterNames.LATE_RECORDS).counters()) + ", by the deviation app: "
                + sum(apps.registry().find(MeterNames.DEVIATION_SKIPPED_RECORDS).tag(MeterNames.TAG_REASON, "late").counters())
                + "; the loss summaries counting fewer than " + RUNS + " runs: "
                + Stream.iterate(0, t -> t < ITERATIONS, t -> t + 1).filter(t -> counted(byIteration.get(t)) < RUNS)
                        .map(t -> t + ": " + counted(byIteration.get(t))).limit(20).toList(),
                bytes -> TelemetrySerdes.quantiles().deserializer().deserialize(Topics.QUANTILES, bytes), read -> {
                    byIteration.clear();
                    read.stream().filter(s -> s.getExperimentId().equals(EXPERIMENT) && s.getMetric().equals("loss"))
                            .forEach(s -> byIteration.computeIfAbsent(s.getIteration(), t -> new ArrayList<>()).add(s));
                    return Stream.iterate(0, t -> t < ITERATIONS, t -> t + 1).allMatch(t -> counted(byIteration.get(t)) >= RUNS);
                });
        return byIteration;
    }

    private static long counted(List<QuantileSummary> updates) {
        QuantileSummary last = updates == null ? null : updates.get(updates.size() - 1);
        return last == null ? 0 : last.getCount() + last.getNonFinite();
    }

    /** Waits until the app's group has committed every offset of sgd.iterations: it read (and counted) all of it. */
    private void awaitCommittedToTheEnd(String applicationId) throws Exception {
        List<TopicPartition> partitions = Stream.iterate(0, p -> p < PARTITIONS, p -> p + 1)
                .map(p -> new TopicPartition(Topics.ITERATIONS, p)).toList();
        Map<TopicPartition, Long> end = new HashMap<>();
        for (var entry : cluster.admin().listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                .all().get(30, TimeUnit.SECONDS).entrySet()) {
            end.put(entry.getKey(), entry.getValue().offset());
        }
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        Map<TopicPartition, Long> committed = Map.of();
        while (System.nanoTime() < deadline) {
            Map<TopicPartition, OffsetAndMetadata> offsets = cluster.admin().listConsumerGroupOffsets(applicationId)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            committed = offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(Topics.ITERATIONS) && e.getValue() != null)
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            if (committed.equals(end)) {
                return;
            }
            Thread.sleep(200);
        }
        fail(applicationId + " committed " + committed + " of " + Topics.ITERATIONS + ", whose end is " + end);
    }

    /** Reads a topic from its start with read_committed until {@code done} holds (null: until the end), within PATIENCE. */
    private static <V> List<V> readCommitted(String bootstrap, String topic, Function<byte[], V> decode, Predicate<List<V>> done) {
        return readCommitted(bootstrap, topic, () -> "", decode, done);
    }

    private static <V> List<V> readCommitted(String bootstrap, String topic, Supplier<String> diagnosis, Function<byte[], V> decode,
                                             Predicate<List<V>> done) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<V> read = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    read.add(decode.apply(record.value()));
                }
                if (done == null) {
                    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                    if (partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
                        return read;
                    }
                } else if (done.test(read)) {
                    return read;
                }
            }
        }
        return fail("never read what was expected from " + topic + " within " + PATIENCE + "; read " + read.size() + " records. "
                + diagnosis.get());
    }

    private static double sum(java.util.Collection<Counter> counters) {
        return counters.stream().mapToDouble(Counter::count).sum();
    }

    private static void deleteRecursively(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
