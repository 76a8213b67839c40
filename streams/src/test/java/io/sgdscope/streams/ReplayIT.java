package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.deviation.MomentsAtTheta;
import io.sgdscope.streams.runs.AppScope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays against the real broker: with the live settings a replay reproduces the live apps' outputs
 * exactly (the latest summary of every key, every alert); with a smaller delta it raises at least the
 * same alerts; the live outputs and consumer groups are not touched.
 */
class ReplayIT {

    private static final String EXPERIMENT = ExactlyOnceFailoverIT.EXPERIMENT;
    private static final int RUNS = 12;
    private static final int ITERATIONS = 40;
    private static final MomentsAtTheta AT = new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6);
    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(4, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @TempDir
    Path work;

    @Test
    void aReplayWithTheLiveSettingsReproducesTheLiveOutputsAndASmallerDeltaRaisesASuperset() throws Exception {
        String bootstrap = broker.bootstrapServers();
        produce(bootstrap);
        StreamsSettings live = StreamsSettings.defaults(bootstrap, work.resolve("live")).withApplicationId("it-live")
                .withMetrics("127.0.0.1", 0);
        try (Admin admin = broker.admin()) {
            Map<TopicPartition, Long> ends = Replay.endOffsets(admin, Replay.inputPartitions(admin));
            try (StreamsApps apps = StreamsApps.start(live, ExactlyOnceFailoverIT.QUANTILES, DeviationSettings.defaults())) {
                Replay.awaitCaughtUp(admin, live, ends, PATIENCE, message -> { });
            }
        }
        Map<String, QuantileSummary> liveQuantiles = latest(read(bootstrap, Topics.QUANTILES, TelemetrySerdes.quantiles().deserializer()));
        List<String> liveAlerts = alerts(read(bootstrap, Topics.ALERTS, TelemetrySerdes.alerts().deserializer()));
        assertFalse(liveAlerts.isEmpty(), "the planted deviation and divergence raise live alerts");
        int liveQuantileRecords = read(bootstrap, Topics.QUANTILES, TelemetrySerdes.quantiles().deserializer()).size();

        List<String> progress = new ArrayList<>();
        Replay.Result same = Replay.run(live.withApplicationId("it-replay-same").withStateDir(work.resolve("replay-same")),
                ExactlyOnceFailoverIT.QUANTILES, DeviationSettings.defaults(),
                new AppScope(EXPERIMENT, 0, Integer.MAX_VALUE, "it.replay-same.quantiles", "it.replay-same.alerts"),
                PATIENCE, progress::add);
        assertEquals("caught up with the end offsets seen at the start", progress.get(progress.size() - 1));
        Map<String, QuantileSummary> replayed = latest(read(bootstrap, same.scope().quantilesTopic(),
                TelemetrySerdes.quantiles().deserializer()));
        assertEquals(liveQuantiles.keySet(), replayed.keySet());
        for (String key : liveQuantiles.keySet()) {
            assertEquals(withoutTime(liveQuantiles.get(key)), withoutTime(replayed.get(key)), key);
        }
        assertEquals(liveAlerts, alerts(read(bootstrap, same.scope().alertsTopic(), TelemetrySerdes.alerts().deserializer())));

        DeviationSettings smallerDelta = new DeviationSettings(DeviationSettings.DEFAULT_DELTA / 10, DeviationSettings.DEFAULT_C,
                DeviationSettings.DEFAULT_WINDOW, DeviationSettings.DEFAULT_ALERT_LEVEL, DeviationSettings.DEFAULT_DIVERGENCE_FACTOR,
                DeviationSettings.DEFAULT_WATCHED_RUNS);
        Replay.Result stricter = Replay.run(live.withApplicationId("it-replay-delta").withStateDir(work.resolve("replay-delta")),
                ExactlyOnceFailoverIT.QUANTILES, smallerDelta,
                new AppScope(EXPERIMENT, 0, Integer.MAX_VALUE, "it.replay-delta.quantiles", "it.replay-delta.alerts"),
                PATIENCE, message -> { });
        Set<String> strictRunChecks = runChecks(read(bootstrap, stricter.scope().alertsTopic(), TelemetrySerdes.alerts().deserializer()));
        Set<String> liveRunChecks = runChecks(read(bootstrap, Topics.ALERTS, TelemetrySerdes.alerts().deserializer()));
        assertTrue(strictRunChecks.containsAll(liveRunChecks), "a smaller delta: " + strictRunChecks + " holds " + liveRunChecks);

        assertEquals(liveQuantileRecords, read(bootstrap, Topics.QUANTILES, TelemetrySerdes.quantiles().deserializer()).size(),
                "the replays left the live output alone");
        assertThrows(IllegalArgumentException.class, () -> Replay.run(live, ExactlyOnceFailoverIT.QUANTILES,
                DeviationSettings.defaults(), AppScope.LIVE, PATIENCE, message -> { }), "a replay never writes to the live topics");
    }

    private static QuantileSummary withoutTime(QuantileSummary summary) {
        return QuantileSummary.newBuilder(summary).setUpdatedAtMillis(0).build();
    }

    private static List<String> alerts(List<ConsumerRecord<String, DeviationAlert>> records) {
        List<String> alerts = new ArrayList<>();
        for (ConsumerRecord<String, DeviationAlert> record : records) {
            DeviationAlert alert = DeviationAlert.newBuilder(record.value()).setRaisedAtMillis(0).build();
            alerts.add(record.key() + " " + alert);
        }
        alerts.sort(null);
        return alerts;
    }

    private static Set<String> runChecks(List<ConsumerRecord<String, DeviationAlert>> records) {
        Set<String> checks = new TreeSet<>();
        records.forEach(r -> checks.add(r.value().getRunId() + " " + r.value().getCheck()));
        return checks;
    }

    private static <V> Map<String, V> latest(List<ConsumerRecord<String, V>> records) {
        Map<String, V> latest = new TreeMap<>();
        records.forEach(r -> latest.put(r.key(), r.value()));
        return latest;
    }

    private void produce(String bootstrap) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, IterationMetrics> iterations = new KafkaProducer<>(config, new StringSerializer(),
                TelemetrySerdes.iterations().serializer());
             KafkaProducer<String, SpecificRecord> runs = new KafkaProducer<>(config, new StringSerializer(),
                     TelemetrySerdes.runs().serializer())) {
            for (int run = 0; run < RUNS; run++) {
                String runId = EXPERIMENT + "-run-" + run;
                runs.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId), Telemetry.started(EXPERIMENT, runId, run, "sgd", 1150)));
            }
            runs.flush();
            for (int t = 0; t < ITERATIONS; t++) {
                for (int run = 0; run < RUNS; run++) {
                    if (t <= ExactlyOnceFailoverIT.lastIteration(run)) {
                        String runId = EXPERIMENT + "-run-" + run;
                        iterations.send(new ProducerRecord<>(Topics.ITERATIONS, runId,
                                Telemetry.withMoments(EXPERIMENT, runId, t, ExactlyOnceFailoverIT.loss(run, t), AT)));
                    }
                }
            }
            iterations.flush();
            for (int run = 0; run < RUNS; run++) {
                String runId = EXPERIMENT + "-run-" + run;
                int last = ExactlyOnceFailoverIT.lastIteration(run);
                boolean diverged = last < ITERATIONS - 1;
                runs.send(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId), diverged
                        ? Telemetry.finished(EXPERIMENT, runId, RunStatus.DIVERGED, last + 1, Double.NaN)
                        : Telemetry.finished(EXPERIMENT, runId, RunStatus.COMPLETED, ITERATIONS, ExactlyOnceFailoverIT.loss(run, ITERATIONS))));
            }
            runs.flush();
        }
    }

    /** Every committed record of the topic, partition after partition. */
    private static <V> List<ConsumerRecord<String, V>> read(String bootstrap, String topic, Deserializer<V> values) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, V>> read = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, new StringDeserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).sorted((a, b) -> a.partition() - b.partition()).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline && !partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            }
        }
        return read;
    }
}
