package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sgdscope train --shard i/N}: one experiment trained by two trainer processes, shard 1/2 and shard 2/2,
 * against one broker, gives the streams app's quantiles of the same experiment trained by one process — every
 * (metric, iteration), exactly (60 runs: fewer than the sketch's k = 300, so the quantiles are exact order
 * statistics) — while the live frontier shows nothing until a run of the second shard has started. The unsharded
 * experiments run under other ids on the same broker.
 *
 * <p>Exactly when trained in the same blocks, the shards one after the other or at the same time. In other blocks the
 * ensemble engine's values differ in the last bits: its first layer is one gemm over all runs of a block
 * ({@code BatchedMlp}), whose width, and so OpenBLAS's split of it into kernels, depends on the block (measured
 * here: a 2-ulp difference in a loss quantile). That comparison is to 1e-12 (relative; absolute below 1).
 */
class ShardedExperimentIT {

    private static final int RUNS = 60;
    private static final int ITERATIONS = 20;

    /** No topics: the streams process creates them. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withoutTopics();

    @TempDir
    Path dir;

    @Test
    void twoShardsInTwoProcessesGiveTheQuantilesOfOneProcessTrainingEveryRun() throws Exception {
        try (SgdscopeProcess streams = SgdscopeProcess.start("streams", "--bootstrap-servers", broker.bootstrapServers(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams").toString(), "--partitions", "2")) {
            URI metrics = URI.create(streams.awaitLine(Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));

            // Ensemble engine, blocks of 6: shard 1 trains {0..5} .. {24..29}, shard 2 {30..35} .. {54..59}, as the
            // whole experiment does; in blocks of 8 the whole experiment trains {0..7} .. {56..59}.
            List<String> ensemble = List.of("--ensemble-block", "6", "--moments-every", "0", "--spectrum-every", "0");
            train("it-shards", "1/2", ensemble);
            // Shard 1 is done and counted downstream; no run of shard 2 has started: no band is complete, none is shown.
            PrometheusScrape waiting = await(metrics, scrape -> scrape.value("sgdscope_experiment_runs",
                    Map.of("experiment", "it-shards", "state", "completed")).orElse(0.0) == RUNS / 2, "30 completed runs");
            assertEquals(Optional.of(-1.0), waiting.value("sgdscope_experiment_frontier_iteration", Map.of("experiment", "it-shards")));
            assertEquals(Optional.empty(), waiting.value("sgdscope_cross_run_iteration", Map.of("experiment", "it-shards",
                    "metric", "loss")), "no band while a shard is missing");
            train("it-shards", "2/2", ensemble);
            train("it-whole", null, ensemble);
            train("it-whole-b8", null, List.of("--ensemble-block", "8", "--moments-every", "0", "--spectrum-every", "0"));

            // The two shards at the same time.
            try (SgdscopeProcess first = startTrain("it-shards-together", "1/2", ensemble);
                 SgdscopeProcess second = startTrain("it-shards-together", "2/2", ensemble)) {
                assertEquals(0, first.awaitExit(Duration.ofSeconds(180)), "shard 1/2: " + first.stderr());
                assertEquals(0, second.awaitExit(Duration.ofSeconds(180)), "shard 2/2: " + second.stderr());
            }

            // The live frontier of the sharded experiment covers all runs at the last iteration.
            await(metrics, scrape -> scrape.value("sgdscope_cross_run_iteration", Map.of("experiment", "it-shards",
                    "metric", "loss")).orElse(-1.0) == ITERATIONS - 1 && scrape.value("sgdscope_cross_run_runs",
                    Map.of("experiment", "it-shards", "metric", "loss")).orElse(0.0) == RUNS, "the band of all runs at the end");

            Map<String, Map<String, QuantileSummary>> summaries = readSummaries(List.of("it-shards", "it-whole", "it-whole-b8",
                    "it-shards-together"), Duration.ofSeconds(90));
            assertSameQuantiles(summaries.get("it-whole"), summaries.get("it-shards"), 0);
            assertSameQuantiles(summaries.get("it-whole"), summaries.get("it-shards-together"), 0);
            assertSameQuantiles(summaries.get("it-whole-b8"), summaries.get("it-shards"), 1e-12);

            // Every run once, under the id and seed of its index, each saying the whole experiment's size and its shard.
            Map<String, List<RunStarted>> starts = readStarts(Duration.ofSeconds(30));
            for (String experiment : List.of("it-shards", "it-shards-together")) {
                List<RunStarted> sharded = starts.get(experiment);
                assertEquals(RUNS, sharded.size(), experiment);
                Map<Integer, Long> wholeSeeds = starts.get("it-whole").stream()
                        .collect(Collectors.toMap(RunStarted::getRunIndex, RunStarted::getSeed));
                Set<String> ids = new TreeSet<>();
                for (RunStarted start : sharded) {
                    ids.add(start.getRunId());
                    assertEquals(experiment + String.format("-r%05d", start.getRunIndex()), start.getRunId());
                    assertEquals(wholeSeeds.get(start.getRunIndex()), start.getSeed(), start.getRunId());
                    assertEquals(RUNS, start.getPlannedRuns(), start.getRunId());
                    assertEquals(start.getRunIndex() < RUNS / 2 ? "1/2" : "2/2", start.getSettings().get("shard"), start.getRunId());
                    assertEquals(start.getRunIndex() < RUNS / 2 ? 1 : 2, start.getShardIndex(), start.getRunId());
                    assertEquals(2, start.getShardCount(), start.getRunId());
                }
                assertEquals(RUNS, ids.size(), experiment + ": every run once");
                for (RunStarted whole : starts.get("it-whole")) {
                    assertEquals(null, whole.getShardCount(), whole.getRunId() + ": not sharded, no shard named");
                    assertEquals(null, whole.getShardIndex(), whole.getRunId());
                }
            }
        }
    }

    private void train(String experiment, String shard, List<String> options) throws Exception {
        try (SgdscopeProcess train = startTrain(experiment, shard, options)) {
            assertEquals(0, train.awaitExit(Duration.ofSeconds(180)), experiment + " " + shard + ": " + train.stderr());
            int runs = shard == null ? RUNS : RUNS / 2;
            assertTrue(train.stdout().contains("Runs: " + runs + " completed, 0 diverged, 0 cancelled, 0 failed"),
                    String.join("\n", train.stdout()));
        }
    }

    private SgdscopeProcess startTrain(String experiment, String shard, List<String> options) throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--bootstrap-servers", broker.bootstrapServers(),
                "--experiment", experiment, "--runs", "" + RUNS, "--iterations", "" + ITERATIONS, "--workers", "1",
                "--metrics-port", "-1"));
        if (shard != null) {
            args.addAll(List.of("--shard", shard));
        }
        args.addAll(options);
        return SgdscopeProcess.start(args.toArray(String[]::new));
    }

    /**
     * Same (metric, iteration) keys, counts and quantiles: == on doubles for {@code tolerance} 0, else within that
     * difference relative to max(|value|, 1) (the timestamps differ, and are not compared).
     */
    private static void assertSameQuantiles(Map<String, QuantileSummary> whole, Map<String, QuantileSummary> sharded,
                                            double tolerance) {
        assertEquals(whole.keySet(), sharded.keySet(), "the same metrics and iterations");
        assertTrue(whole.size() >= 4 * ITERATIONS, "loss, minibatch loss, ||g||, ... at every iteration: " + whole.keySet());
        for (Map.Entry<String, QuantileSummary> entry : whole.entrySet()) {
            QuantileSummary a = entry.getValue();
            QuantileSummary b = sharded.get(entry.getKey());
            String at = entry.getKey();
            assertEquals(a.getCount(), b.getCount(), at);
            assertEquals(0.0, b.getNormalizedRankError(), at + ": fewer values than k, exact");
            double[] expected = {a.getMin(), a.getP05(), a.getP10(), a.getP25(), a.getP50(), a.getP75(), a.getP90(), a.getP95(), a.getMax()};
            double[] actual = {b.getMin(), b.getP05(), b.getP10(), b.getP25(), b.getP50(), b.getP75(), b.getP90(), b.getP95(), b.getMax()};
            for (int i = 0; i < expected.length; i++) {
                boolean same = expected[i] == actual[i] || Double.isNaN(expected[i]) && Double.isNaN(actual[i])
                        || Math.abs(expected[i] - actual[i]) <= tolerance * Math.max(Math.abs(expected[i]), 1);
                assertTrue(same,
                        at + ": quantile " + i + " of the whole experiment " + expected[i] + ", of the shards " + actual[i]);
            }
        }
    }

    /**
     * The latest QuantileSummary of each (metric, iteration) of each experiment, by "metric/iteration": read until
     * the loss at every iteration counts every run in each experiment and the experiments agree on their keys and
     * counts (bounded; the caller then compares).
     */
    private Map<String, Map<String, QuantileSummary>> readSummaries(List<String> experiments, Duration timeout) {
        Map<String, Map<String, QuantileSummary>> latest = new HashMap<>();
        experiments.forEach(e -> latest.put(e, new TreeMap<>()));
        TelemetrySerde<QuantileSummary> serde = TelemetrySerdes.quantiles();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            assignFromBeginning(consumer, Topics.QUANTILES);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !complete(latest)) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    QuantileSummary summary = serde.decode(record.topic(), record.partition(), record.offset(), record.value());
                    Map<String, QuantileSummary> of = latest.get(summary.getExperimentId());
                    if (of != null) {
                        of.put(summary.getMetric() + "/" + summary.getIteration(), summary);
                    }
                }
            }
        }
        return latest;
    }

    private static boolean complete(Map<String, Map<String, QuantileSummary>> latest) {
        for (Map<String, QuantileSummary> of : latest.values()) {
            for (int t = 0; t < ITERATIONS; t++) {
                QuantileSummary loss = of.get("loss/" + t);
                if (loss == null || loss.getCount() != RUNS) {
                    return false;
                }
            }
        }
        return counts(latest.get("it-whole")).equals(counts(latest.get("it-shards")))
                && counts(latest.get("it-whole-b8")).equals(counts(latest.get("it-shards")))
                && counts(latest.get("it-whole")).equals(counts(latest.get("it-shards-together")));
    }

    private static Map<String, Long> counts(Map<String, QuantileSummary> of) {
        return of.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getCount()));
    }

    /** The RunStarted records on sgd.runs, by experiment. */
    private Map<String, List<RunStarted>> readStarts(Duration timeout) {
        Map<String, List<RunStarted>> starts = new HashMap<>();
        TelemetrySerde<SpecificRecord> serde = TelemetrySerdes.runs();
        int seen = 0;
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            assignFromBeginning(consumer, Topics.RUNS);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && seen < 5 * RUNS) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (serde.decode(record.topic(), record.partition(), record.offset(), record.value()) instanceof RunStarted start) {
                        starts.computeIfAbsent(start.getExperimentId(), e -> new ArrayList<>()).add(start);
                        seen++;
                    }
                }
            }
        }
        return starts;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static void assignFromBeginning(KafkaConsumer<String, byte[]> consumer, String topic) {
        Set<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).collect(Collectors.toSet());
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    private static PrometheusScrape await(URI metrics, Predicate<PrometheusScrape> condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        PrometheusScrape scrape = null;
        while (System.nanoTime() < deadline) {
            scrape = PrometheusScrape.of(metrics);
            if (condition.test(scrape)) {
                return scrape;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no " + what + " within 90 s:\n" + (scrape == null ? ""
                : scrape.text().lines().filter(l -> l.startsWith("sgdscope_cross_run") || l.startsWith("sgdscope_experiment"))
                        .collect(Collectors.joining("\n"))));
    }
}
