package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.deviation.MomentsAtTheta;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.streams.quantiles.TrackedMetric;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
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
 * Exactly once, on a real broker: two instances of both apps share the input (4 partitions); one runs
 * in a process of its own and is killed (SIGKILL) midway; the other takes over its tasks. What a
 * read_committed consumer then sees on sgd.quantiles and sgd.alerts must be what one flawless instance
 * would have produced: every expected summary with the exact count (no batch applied twice, none
 * lost) and every planted alert exactly once.
 */
class ExactlyOnceFailoverIT {

    static final String EXPERIMENT = "it-failover";
    static final QuantilesSettings QUANTILES = QuantilesSettings.defaults()
            .withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)).withBatching(40, Duration.ofSeconds(1)); // batches of 2 chunks
    private static final int RUNS = 12;
    private static final int ITERATIONS = 40;
    private static final int HALF = 20;
    private static final int DIVERGING_RUN = 3;
    private static final int DIVERGES_AT = 25;
    private static final int DEVIATING_RUN = 5;
    /** Moments of every record: Eq. 27's interval [−2.125, 0.125], exceedance above 0.125 + 0.05625 ln 200 = 0.423. */
    private static final MomentsAtTheta AT = new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6);
    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(4, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @TempDir
    Path work;

    static StreamsSettings settings(String bootstrap, Path stateDir) {
        return StreamsSettings.defaults(bootstrap, stateDir).withApplicationId("it-failover").withMetrics("127.0.0.1", 0)
                .withClientProperties(AppsProcess.fastFailover());
    }

    /** Run r's loss at t: distinct across runs; run 3 diverges at 25; run 5 jumps by 1.0 at the steps 30 → 31 … 35 → 36. */
    static double loss(int run, int t) {
        if (run == DIVERGING_RUN && t >= DIVERGES_AT) {
            return Double.NaN;
        }
        double loss = 2.0 + 0.01 * run - 0.01 * t;
        if (run == DEVIATING_RUN) {
            loss += Math.max(0, Math.min(t, 36) - 30) * 1.01;
        }
        return loss;
    }

    /** The iterations run r publishes: all, or up to its divergence. */
    static int lastIteration(int run) {
        return run == DIVERGING_RUN ? DIVERGES_AT : ITERATIONS - 1;
    }

    @Test
    void afterOneInstanceIsKilledMidwayTheCommittedOutputsHoldEveryQuantileAndAlertExactlyOnce() throws Exception {
        Process child = startChild(broker.bootstrapServers());
        List<String> childOutput = new CopyOnWriteArrayList<>();
        follow(child, childOutput);
        try {
            int childPort = Integer.parseInt(awaitLine(childOutput, "METRICS ", child).substring("METRICS ".length()));
            awaitLine(childOutput, "RUNNING", child);
            try (StreamsApps survivor = StreamsApps.start(settings(broker.bootstrapServers(), work.resolve("survivor")),
                    QUANTILES, DeviationSettings.defaults())) {
                assertTrue(survivor.awaitRunning(PATIENCE), "the second instance runs");
                awaitReady(childPort);

                produce(broker.bootstrapServers(), 0, HALF - 1, false);
                // Midway: the child has processed a good part of its share (about half of the 240 records)
                // and sent outputs on; with a commit every 500 ms some of it is committed, some not.
                awaitScrape(childPort, text -> counter(text, "sgdscope_iteration_records_total") >= 60
                        && counter(text, "sgdscope_deviation_records_total") >= 60);
                Thread.sleep(300);
                child.destroyForcibly(); // SIGKILL: no commit, no leaving the group, an open transaction
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child is gone");

                produce(broker.bootstrapServers(), HALF, ITERATIONS - 1, true);
                Map<String, List<QuantileSummary>> summaries = awaitSummaries(broker.bootstrapServers());
                checkSummaries(summaries);
                // The deviation app may still be working through the second half when the quantiles are done:
                // wait until both planted alerts are committed, then read the topic to its end for duplicates.
                readUntil(broker.bootstrapServers(), Topics.ALERTS, TelemetrySerdes.alerts().deserializer(),
                        read -> read.stream().map(record -> record.value().getCheck()).distinct().count() >= 2);
                checkAlerts(readAll(broker.bootstrapServers(), Topics.ALERTS, TelemetrySerdes.alerts().deserializer()));
                checkSignals(survivor);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    private void checkSummaries(Map<String, List<QuantileSummary>> summaries) {
        for (String metric : List.of("loss", TrackedMetric.LOSS_DELTA)) {
            for (int t = 0; t < ITERATIONS; t++) {
                List<Double> values = new ArrayList<>();
                int nonFinite = 0;
                for (int run = 0; run < RUNS; run++) {
                    boolean present = metric.equals("loss") ? t <= lastIteration(run)
                            : run == DIVERGING_RUN ? t < DIVERGES_AT : t < ITERATIONS; // Δ_39 from RunFinished.finalLoss
                    if (!present) {
                        continue;
                    }
                    // Eq. 22; f(θ_40) of a completed run is its RunFinished.finalLoss
                    double value = metric.equals("loss") ? loss(run, t) : loss(run, t + 1) - loss(run, t);
                    if (Double.isFinite(value)) {
                        values.add(value);
                    } else {
                        nonFinite++;
                    }
                }
                String key = Topics.quantileKey(EXPERIMENT, metric, t);
                List<QuantileSummary> updates = summaries.get(key);
                assertTrue(updates != null && !updates.isEmpty(), "no summary of " + key);
                long previous = 0;
                for (QuantileSummary update : updates) {
                    long runsCounted = update.getCount() + update.getNonFinite();
                    assertTrue(runsCounted > previous, key + ": committed counts must only grow, a repeat means a batch "
                            + "was applied twice: " + updates.stream().map(u -> u.getCount() + "+" + u.getNonFinite()).toList());
                    previous = runsCounted;
                }
                QuantileSummary last = updates.get(updates.size() - 1);
                double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                assertEquals(sorted.length, last.getCount(), key + " count");
                assertEquals(nonFinite, last.getNonFinite(), key + " non-finite");
                assertEquals(sorted[0], last.getMin(), key + " min");
                assertEquals(sorted[sorted.length - 1], last.getMax(), key + " max");
                assertEquals(sorted[(int) Math.ceil(0.5 * sorted.length) - 1], last.getP50(), key + " median");
                assertEquals(sorted[(int) Math.ceil(0.9 * sorted.length) - 1], last.getP90(), key + " p90");
                assertEquals(Arrays.stream(sorted).sum() / sorted.length, last.getMean(), 1e-12, key + " mean");
            }
        }
    }

    /** f(θ_T) after the last update, as RunFinished reports it. */
    /** What Prometheus alert rules read: a run diverged, a deviation bound was violated (on the instance that raised them). */
    private void checkSignals(StreamsApps survivor) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String scrape = "";
        while (System.nanoTime() < deadline) {
            scrape = ((io.micrometer.prometheusmetrics.PrometheusMeterRegistry) survivor.registry()).scrape();
            if (scrape.contains("sgdscope_experiment_runs{experiment=\"" + EXPERIMENT + "\",state=\"completed\"} 11.0")) {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(scrape.contains("sgdscope_experiment_runs{experiment=\"" + EXPERIMENT + "\",state=\"diverged\"} 1.0"), scrape);
        assertTrue(scrape.contains("sgdscope_deviation_alerts_total{check=\"divergence\",experiment=\"" + EXPERIMENT
                + "\",severity=\"critical\"} 1.0"), scrape);
        assertTrue(scrape.contains("sgdscope_deviation_alerts_total{check=\"theorem1_interval\",experiment=\"" + EXPERIMENT
                + "\",severity=\"warning\"} 1.0"), scrape);
        assertEquals(ITERATIONS - 1, survivor.quantiles().experiments().current(EXPERIMENT).orElseThrow().frontierIteration());
    }

    private static double finalLoss(int run) {
        return loss(run, ITERATIONS);
    }

    private void checkAlerts(List<ConsumerRecord<String, DeviationAlert>> alerts) {
        List<String> seen = alerts.stream().map(record -> record.key() + " " + record.value().getCheck()).sorted().toList();
        assertEquals(List.of(EXPERIMENT + "-run-" + DIVERGING_RUN + " " + DeviationCheck.DIVERGENCE,
                EXPERIMENT + "-run-" + DEVIATING_RUN + " " + DeviationCheck.THEOREM1_INTERVAL), seen,
                "each planted alert exactly once: " + alerts.stream().map(r -> r.value().getMessage()).toList());
        DeviationAlert divergence = alerts.stream().map(ConsumerRecord::value)
                .filter(alert -> alert.getCheck() == DeviationCheck.DIVERGENCE).findFirst().orElseThrow();
        assertEquals(DIVERGES_AT, divergence.getIteration());
    }

    private void produce(String bootstrap, int from, int to, boolean finish) {
        Properties properties = new Properties();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, IterationMetrics> iterations = new KafkaProducer<>(properties, new StringSerializer(),
                TelemetrySerdes.iterations().serializer());
             KafkaProducer<String, SpecificRecord> runs = new KafkaProducer<>(properties, new StringSerializer(),
                     TelemetrySerdes.runs().serializer())) {
            for (int run = 0; run < RUNS && from == 0; run++) {
                String runId = EXPERIMENT + "-run-" + run;
                runs.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId), Telemetry.started(EXPERIMENT, runId, run, "sgd", 1150)));
            }
            runs.flush();
            for (int t = from; t <= to; t++) { // runs in lockstep
                for (int run = 0; run < RUNS; run++) {
                    if (t > lastIteration(run)) {
                        continue;
                    }
                    String runId = EXPERIMENT + "-run-" + run;
                    iterations.send(new ProducerRecord<>(Topics.ITERATIONS, runId,
                            Telemetry.withMoments(EXPERIMENT, runId, t, loss(run, t), AT)));
                }
            }
            iterations.flush();
            for (int run = 0; run < RUNS && finish; run++) {
                String runId = EXPERIMENT + "-run-" + run;
                runs.send(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId), run == DIVERGING_RUN
                        ? Telemetry.finished(EXPERIMENT, runId, RunStatus.DIVERGED, DIVERGES_AT + 1, Double.NaN)
                        : Telemetry.finished(EXPERIMENT, runId, RunStatus.COMPLETED, ITERATIONS, finalLoss(run))));
            }
            runs.flush();
        }
    }

    private Map<String, List<QuantileSummary>> awaitSummaries(String bootstrap) {
        Map<String, List<QuantileSummary>> byKey = new HashMap<>();
        readUntil(bootstrap, Topics.QUANTILES, TelemetrySerdes.quantiles().deserializer(), records -> {
            byKey.clear();
            for (ConsumerRecord<String, QuantileSummary> record : records) {
                byKey.computeIfAbsent(record.key(), key -> new ArrayList<>()).add(record.value());
            }
            for (int t = 0; t < ITERATIONS; t++) {
                List<QuantileSummary> loss = byKey.get(Topics.quantileKey(EXPERIMENT, "loss", t));
                List<QuantileSummary> delta = byKey.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, t));
                int expected = t <= DIVERGES_AT ? RUNS : RUNS - 1;
                int expectedDeltas = t < DIVERGES_AT ? RUNS : RUNS - 1;
                if (loss == null || delta == null || runs(loss) < expected || runs(delta) < expectedDeltas) {
                    return false;
                }
            }
            return true;
        });
        return byKey;
    }

    private static long runs(List<QuantileSummary> updates) {
        QuantileSummary last = updates.get(updates.size() - 1);
        return last.getCount() + last.getNonFinite();
    }

    private Process startChild(String bootstrap) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                AppsProcess.class.getName(), bootstrap, work.resolve("child").toString(), "500")
                .redirectErrorStream(true)
                .start();
    }

    private static void follow(Process child, List<String> lines) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (Exception e) {
                // the child was killed
            }
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
    }

    private static String awaitLine(List<String> lines, String prefix, Process child) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
            if (!child.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        return fail("the child never printed " + prefix + "; its output:\n" + String.join("\n", lines));
    }

    private final HttpClient http = HttpClient.newHttpClient();

    private void awaitReady(int port) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (ready.statusCode() == 200) {
                return;
            }
            Thread.sleep(200);
        }
        fail("the child was not ready again after the second instance joined");
    }

    private void awaitScrape(int port, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String text = "";
        while (System.nanoTime() < deadline) {
            text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (done.test(text)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the child never processed anything:\n" + text.lines().filter(l -> l.startsWith("sgdscope_")).collect(Collectors.joining("\n")));
    }

    private static double counter(String scrape, String name) {
        return scrape.lines().filter(line -> line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    private <V> List<ConsumerRecord<String, V>> readAll(String bootstrap, String topic, Deserializer<V> values) {
        return readUntil(bootstrap, topic, values, null);
    }

    /** Reads a topic from the start with read_committed until the condition holds (null: until its end). */
    private <V> List<ConsumerRecord<String, V>> readUntil(String bootstrap, String topic, Deserializer<V> values,
                                                          Predicate<List<ConsumerRecord<String, V>>> done) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, V>> read = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, new StringDeserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
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
        return fail("never read what was expected from " + topic + " within " + PATIENCE + "; read " + read.size() + " records");
    }
}
