package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
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
 * {@code sgdscope train} killed with SIGKILL after its runs wrote a checkpoint, then {@code train --resume}:
 * the topic holds every iteration of every run, the iterations published twice are identical, and the streams
 * app (a separate {@code sgdscope streams} process) counts each (run, iteration) once: its duplicate counter
 * equals the records sent twice, and the band of the last iteration holds each run once.
 */
class ResumeAfterKillIT {

    private static final String EXPERIMENT = "it-resume";
    private static final int RUNS = 2;
    private static final int ITERATIONS = 20_000;

    /** No topics: the streams process creates them, as it does against a fresh cluster. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withoutTopics();

    @TempDir
    Path dir;

    @Test
    void aTrainerKilledAfterACheckpointAndResumedIsCountedOncePerIterationDownstream() throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        try (SgdscopeProcess streams = SgdscopeProcess.start("streams", "--bootstrap-servers", broker.bootstrapServers(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams").toString(), "--partitions", "2")) {
            URI metrics = URI.create(streams.awaitLine(Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));
            List<String> train = List.of("train", "--bootstrap-servers", broker.bootstrapServers(), "--experiment", EXPERIMENT,
                    "--runs", "" + RUNS, "--iterations", "" + ITERATIONS, "--workers", "2", "--metrics-port", "-1",
                    "--moments-every", "0", "--spectrum-every", "0", "--test-every", "0",
                    "--checkpoint-dir", checkpoints.toString(), "--checkpoint-every", "500");

            try (SgdscopeProcess first = SgdscopeProcess.start(train.toArray(String[]::new))) {
                awaitCheckpoints(checkpoints.resolve(EXPERIMENT), Duration.ofSeconds(60));
                first.close();                                                      // SIGKILL: a crash
                assertEquals(137, first.awaitExit(Duration.ofSeconds(30)), "killed: " + first.stderr());
            }
            List<String> resume = new ArrayList<>(train);
            resume.add("--resume");
            try (SgdscopeProcess second = SgdscopeProcess.start(resume.toArray(String[]::new))) {
                assertEquals(0, second.awaitExit(Duration.ofSeconds(120)), "resume: " + second.stderr());
                String out = String.join("\n", second.stdout());
                Matcher plan = Pattern.compile("Resuming from \\S+: 0 finished runs skipped, 2 continue from their checkpoints "
                        + "\\(at t = [0-9, ]+\\), 0 start afresh").matcher(out);
                assertTrue(plan.find(), out);
                assertTrue(out.contains("Runs: 2 completed, 0 diverged, 0 cancelled, 0 failed; 2 continued from a checkpoint"),
                        out);
            }

            Map<String, String> experiment = Map.of("experiment", EXPERIMENT);
            awaitBand(metrics, ITERATIONS - 1, Duration.ofSeconds(180));      // 40,000 records to catch up on a busy machine
            PrometheusScrape scrape = PrometheusScrape.of(metrics);
            long read = scrape.value("sgdscope_iteration_records_total", experiment).orElseThrow().longValue();
            long dropped = scrape.value("sgdscope_duplicate_iteration_records_total", experiment).orElse(0.0).longValue();
            assertEquals(RUNS * ITERATIONS + dropped, read, "the streams app dropped exactly what it had counted already");

            List<IterationMetrics> records = IterationRecords.readAll(broker.bootstrapServers(), (int) read, Duration.ofSeconds(60));
            assertEquals(read, records.size(), "the streams app read every record on the topic");
            long twice = 0;
            for (int r = 0; r < RUNS; r++) {
                String runId = EXPERIMENT + "-r0000" + r;
                Map<Integer, List<IterationMetrics>> byIteration = new TreeMap<>();
                records.stream().filter(m -> m.getRunId().equals(runId))
                        .forEach(m -> byIteration.computeIfAbsent(m.getIteration(), t -> new ArrayList<>()).add(m));
                assertEquals(IntStream.range(0, ITERATIONS).boxed().toList(), List.copyOf(byIteration.keySet()),
                        runId + ": no iteration missing");
                for (List<IterationMetrics> copies : byIteration.values()) {
                    twice += copies.size() - 1;
                    for (IterationMetrics copy : copies) {
                        assertEquals(copies.get(0).getLoss(), copy.getLoss(), 0.0, "a re-published record is identical");
                        assertEquals(copies.get(0).getSgNorm(), copy.getSgNorm(), 0.0);
                    }
                }
            }
            assertEquals(dropped, twice, "the duplicates the streams app dropped are the records sent twice");
            assertEachIterationCountedOnce(broker.bootstrapServers(), Duration.ofSeconds(60));
            streams.terminate();
            streams.awaitExit(Duration.ofSeconds(60));
        }
    }

    /**
     * Reads the streams app's summaries of the loss (sgd.quantiles) until every iteration's latest one counts each
     * run once; no summary may ever count more runs than there are.
     */
    private static void assertEachIterationCountedOnce(String bootstrapServers, Duration timeout) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        Map<Integer, Long> counts = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.QUANTILES).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    QuantileSummary summary = TelemetrySerdes.quantiles().decode(record.topic(), record.partition(),
                            record.offset(), record.value());
                    if (summary.getExperimentId().equals(EXPERIMENT) && summary.getMetric().equals("loss")) {
                        assertTrue(summary.getCount() <= RUNS, "iteration " + summary.getIteration() + " counted "
                                + summary.getCount() + " runs");
                        counts.put(summary.getIteration(), summary.getCount());
                    }
                }
                if (counts.size() == ITERATIONS && counts.values().stream().allMatch(c -> c == RUNS)) {
                    return;
                }
            }
        }
        List<Integer> notYet = IntStream.range(0, ITERATIONS).filter(t -> counts.getOrDefault(t, 0L) != RUNS).limit(10)
                .boxed().toList();
        throw new AssertionError("iterations whose loss summary does not count " + RUNS + " runs, e.g. " + notYet);
    }

    /** Waits until every run has written a checkpoint file. */
    private static void awaitCheckpoints(Path folder, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (IntStream.range(0, RUNS).allMatch(r -> Files.isRegularFile(folder.resolve(EXPERIMENT + "-r0000" + r + ".ckpt")))) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no checkpoints in " + folder + " within " + timeout);
    }

    private static void awaitBand(URI metrics, int iteration, Duration timeout) throws Exception {
        Map<String, String> labels = new HashMap<>(Map.of("experiment", EXPERIMENT, "metric", "loss"));
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            PrometheusScrape scrape = PrometheusScrape.of(metrics);
            Optional<Double> at = scrape.value("sgdscope_cross_run_iteration", labels);
            Optional<Double> runs = scrape.value("sgdscope_cross_run_runs", labels);
            if (at.isPresent() && at.get() == iteration && runs.isPresent() && runs.get() == RUNS) {
                return;
            }
            last = at + " / " + runs;
            Thread.sleep(200);
        }
        throw new AssertionError("no band of " + RUNS + " runs at iteration " + iteration + " within " + timeout + " (last: "
                + last + ")");
    }
}
