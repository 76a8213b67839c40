package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.CrossRunBand;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantiles app on a real (embedded, single-node KRaft) broker, exactly-once: telemetry in, the
 * scraped gauges and the records on sgd.quantiles out, unreadable bytes to the dead-letter topic.
 */
class QuantilesAppIT {

    private static final String EXPERIMENT = "it-gauss10";
    private static final int RUNS = 5;
    private static final int ITERATIONS = 50;
    private static final int LAST = ITERATIONS - 1;
    /** How long to wait for the pipeline at each step; a bound on waiting, not a timing assertion. */
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String UNREADABLE =
            "sgdscope_unreadable_records_total{application=\"sgdscope-quantiles\",topic=\"sgd.iterations\"}";

    @TempDir
    static Path work;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(3, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    private final HttpClient http = HttpClient.newHttpClient();

    /** Run r's loss at iteration t: distinct across runs, known here, decreasing like training. */
    private static double loss(int run, int t) {
        return (1.0 + 0.37 * run * run) * Math.exp(-0.05 * t) + 0.01 * ((run * 7) % 5);
    }

    @Test
    void scrapedBandAndPublishedSummariesShowTheMedianOfFiveRunsAndSurviveARestart() throws Exception {
        produceRunsOneAfterAnother();
        produceGarbage("run-garbage", "\u0000\u0001 definitely not telemetry".getBytes(StandardCharsets.UTF_8));

        StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("state-1"))
                .withMetrics("127.0.0.1", 0)
                .withCommitInterval(Duration.ofMillis(200));
        double[] lastLosses = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
            lastLosses[run] = loss(run, LAST);
        }
        Arrays.sort(lastLosses);
        double median = lastLosses[RUNS / 2];

        try (QuantilesApp app = QuantilesApp.start(settings)) {
            assertTrue(app.awaitRunning(PATIENCE), "running within " + PATIENCE);
            assertTrue(app.metricsPort() > 0);
            URI metrics = URI.create("http://127.0.0.1:" + app.metricsPort() + "/metrics");

            // Scrape until the band has all five runs at the last iteration, then once more: a scrape reads the
            // gauges one after another, so the one that first shows five runs may hold a quantile read from the
            // band before (four runs at the last iteration). The band of all runs at the end stays as it is.
            Predicate<Map<String, Double>> allRunsAtTheEnd = sample -> sample.getOrDefault(
                    series("sgdscope_cross_run_runs", ""), 0.0) == RUNS
                    && sample.getOrDefault(series("sgdscope_cross_run_iteration", ""), -1.0) == LAST;
            scrapeUntil(metrics, allRunsAtTheEnd);
            Map<String, Double> scraped = scrapeUntil(metrics, allRunsAtTheEnd);
            assertEquals(median, scraped.get(series("sgdscope_cross_run_quantile", ",quantile=\"0.5\"")));
            assertEquals(lastLosses[0], scraped.get(series("sgdscope_cross_run_min", "")));
            assertEquals(lastLosses[RUNS - 1], scraped.get(series("sgdscope_cross_run_max", "")));
            assertEquals((double) RUNS * ITERATIONS,
                    scraped.get("sgdscope_iteration_records_total{experiment=\"" + EXPERIMENT + "\"}"));
            assertTrue(scraped.keySet().stream().anyMatch(name -> name.startsWith("kafka_stream_")),
                    "Kafka Streams' own meters are bound");
            assertTrue(scraped.keySet().stream().anyMatch(name -> name.startsWith("jvm_memory_used_bytes")),
                    "JVM meters are bound");

            // The unreadable record: skipped, counted, and copied to the dead-letter topic.
            Map<String, Double> afterGarbage = scrapeUntil(metrics, sample ->
                    sample.getOrDefault(UNREADABLE, 0.0) == 1.0);
            assertEquals(1.0, afterGarbage.get(UNREADABLE));
            ConsumerRecord<String, byte[]> deadLetter = readUntil(Topics.DEAD_LETTERS, new ByteArrayDeserializer(),
                    records -> !records.isEmpty()).get(0);
            assertEquals("run-garbage", deadLetter.key());
            assertEquals("\u0000\u0001 definitely not telemetry", new String(deadLetter.value(), StandardCharsets.UTF_8));
            assertEquals(Topics.ITERATIONS, new String(deadLetter.headers().lastHeader("__streams.errors.topic").value(),
                    StandardCharsets.UTF_8));

            // The published summaries: the latest per key, as a compacted topic keeps them.
            Map<String, QuantileSummary> summaries = latestSummaries();
            assertEquals(ITERATIONS, summaries.size(), "one key per iteration");
            for (int t = 0; t < ITERATIONS; t++) {
                double[] losses = new double[RUNS];
                for (int run = 0; run < RUNS; run++) {
                    losses[run] = loss(run, t);
                }
                Arrays.sort(losses);
                QuantileSummary summary = summaries.get(Topics.quantileKey(EXPERIMENT, "loss", t));
                assertEquals(RUNS, summary.getCount(), "count at " + t);
                assertEquals(losses[RUNS / 2], summary.getP50(), "median at " + t);
                assertEquals(losses[0], summary.getMin(), "min at " + t);
                assertEquals(losses[RUNS - 1], summary.getMax(), "max at " + t);
                assertEquals(Arrays.stream(losses).sum() / RUNS, summary.getMean(), 1e-15, "mean at " + t);
                assertEquals(0.0, summary.getNormalizedRankError(), "five values are kept exactly");
                double mean = Arrays.stream(losses).sum() / RUNS;
                double variance = Arrays.stream(losses).map(x -> (x - mean) * (x - mean)).sum() / (RUNS - 1);
                assertEquals(variance, summary.getVariance(), 1e-12 * variance, "sample variance at " + t);
            }

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + app.metricsPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
        }

        // A new instance with empty local state restores the frontier from its changelog: the band is
        // back before any new record arrives. This one counts into the caller's registry and serves nothing.
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        try (QuantilesApp restarted = QuantilesApp.start(settings.withStateDir(work.resolve("state-2")), shared)) {
            assertTrue(restarted.awaitRunning(PATIENCE), "running again within " + PATIENCE);
            assertEquals(-1, restarted.metricsPort(), "no server of its own");
            Optional<CrossRunBand> band = restarted.bands().current(EXPERIMENT, "loss");
            assertTrue(band.isPresent(), "band restored");
            assertEquals(LAST, band.get().iteration());
            assertEquals(RUNS, band.get().runs());
            assertEquals(median, band.get().median());
            assertEquals(median, shared.get(MeterNames.CROSS_RUN_QUANTILE).tags("experiment", EXPERIMENT, "metric", "loss", "quantile", "0.5")
                    .gauge().value(), "the gauges are in the caller's registry");
            assertEquals(LAST, restarted.experiments().current(EXPERIMENT).orElseThrow().frontierIteration());
            assertEquals(null, shared.find(MeterNames.ITERATION_RECORDS).counter(),
                    "nothing was read again: the band came from the restored store");
        }
    }

    @Test
    void withoutTheDeadLetterTopicTheAppRefusesToStartInsteadOfDyingAtTheFirstBadRecord() {
        StreamsSettings base = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("state-no-dlq"))
                .withApplicationId("it-no-dlq").withMetrics("127.0.0.1", 0);
        StreamsSettings settings = new StreamsSettings(base.bootstrapServers(), base.applicationId(), base.stateDir(),
                base.metricsHost(), base.metricsPort(), 1, base.processingGuarantee(), Map.of(), base.commitInterval(),
                "sgd.dlq.missing", 0);
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> QuantilesApp.start(settings));
        assertEquals("dead-letter topic sgd.dlq.missing does not exist on " + broker.bootstrapServers()
                + ": create it (Topics.all() lists every topic) or set deadLetterTopic to null", error.getMessage());
    }

    @Test
    void aTakenMetricsPortStopsTheStartWithOneLineAndLeavesNoStreamThreads() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("state-port"))
                    .withApplicationId("it-port-taken").withMetrics("127.0.0.1", port);
            UncheckedIOException error = assertThrows(UncheckedIOException.class, () -> QuantilesApp.start(settings));
            assertEquals("metrics port " + port + " on 127.0.0.1 is in use", error.getMessage());
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(thread -> thread.isAlive() && thread.getName().contains("it-port-taken")), "no threads left");
    }

    private static String series(String name, String moreLabels) {
        return name + "{experiment=\"" + EXPERIMENT + "\",metric=\"loss\"" + moreLabels + "}";
    }

    private void produceRunsOneAfterAnother() throws Exception {
        Properties properties = new Properties();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<String, IterationMetrics> producer = new KafkaProducer<>(properties,
                new StringSerializer(), TelemetrySerdes.iterations().serializer())) {
            for (int run = 0; run < RUNS; run++) {
                String runId = EXPERIMENT + "-run-" + run;
                for (int t = 0; t < ITERATIONS; t++) {
                    producer.send(new ProducerRecord<>(Topics.ITERATIONS, runId, IterationMetrics.newBuilder()
                            .setRunId(runId).setExperimentId(EXPERIMENT).setIteration(t)
                            .setTimestampMillis(System.currentTimeMillis())
                            .setLoss(loss(run, t)).setMinibatchLoss(loss(run, t)).setStepSize(0.1).setBatchSize(5)
                            .setSgNorm(1.0)
                            .build()));
                }
            }
            producer.flush();
        }
    }

    private void produceGarbage(String key, byte[] value) {
        Properties properties = new Properties();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(properties, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.ITERATIONS, key, value));
            producer.flush();
        }
    }

    /** Scrapes until the sample satisfies the condition; fails with the last scrape when patience runs out. */
    private Map<String, Double> scrapeUntil(URI metrics, Predicate<Map<String, Double>> done)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String text = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            text = response.body();
            Map<String, Double> sample = parse(text);
            if (done.test(sample)) {
                return sample;
            }
            Thread.sleep(200);
        }
        return fail("the scrape never got there within " + PATIENCE + "; last sgdscope lines:\n"
                + text.lines().filter(line -> line.startsWith("sgdscope_")).collect(Collectors.joining("\n")));
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{.*\\})?) (\\S+)$");

    /** The Prometheus text format: "name{labels} value" per line, comments skipped. */
    private static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher matcher = SAMPLE.matcher(line);
            if (!line.startsWith("#") && matcher.matches()) {
                samples.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
            }
        }
        return samples;
    }

    private Map<String, QuantileSummary> latestSummaries() {
        List<ConsumerRecord<String, QuantileSummary>> records = readUntil(Topics.QUANTILES,
                TelemetrySerdes.quantiles().deserializer(), read -> {
                    // Summaries of different iterations travel through different partitions: wait until the
                    // latest one of every iteration counts every run, not only the last iteration's.
                    Map<String, QuantileSummary> latest = latest(read);
                    return latest.size() == ITERATIONS && latest.values().stream().allMatch(s -> s.getCount() == RUNS);
                });
        return latest(records);
    }

    /** The latest loss summary per key (the app publishes every metric; this test looks at the loss). */
    private static <V> Map<String, V> latest(List<ConsumerRecord<String, V>> records) {
        Map<String, V> latest = new HashMap<>();
        for (ConsumerRecord<String, V> record : records) {
            if (record.key().startsWith(EXPERIMENT + "/loss/")) {
                latest.put(record.key(), record.value()); // per key, one partition: in order
            }
        }
        return latest;
    }

    /** Reads a whole topic (committed records only) until the records read satisfy the condition. */
    private <V> List<ConsumerRecord<String, V>> readUntil(String topic, Deserializer<V> values,
                                                          Predicate<List<ConsumerRecord<String, V>>> done) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
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
                if (done.test(read)) {
                    return read;
                }
            }
        }
        return fail("never read what was expected from " + topic + " within " + PATIENCE + "; read " + read.size() + " records");
    }
}
