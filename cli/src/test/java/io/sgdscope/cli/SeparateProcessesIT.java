package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * How deployments (and docker-compose) run sgdscope: {@code sgdscope streams} and {@code sgdscope train}
 * as separate processes against a Kafka cluster they do not own — here a real broker started by the test.
 */
class SeparateProcessesIT {

    private static final String EXPERIMENT = "it-separate";
    private static final int RUNS = 3;
    private static final int ITERATIONS = 30;

    /** No topics: the streams process creates them, as it does against a fresh cluster. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withoutTopics();

    @TempDir
    Path dir;

    @Test
    void trainAndStreamsInSeparateProcessesServeTheMedianOfTheLossesOnTheTopic() throws Exception {
        try (SgdscopeProcess streams = SgdscopeProcess.start("streams", "--bootstrap-servers", broker.bootstrapServers(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams").toString(), "--partitions", "2")) {
            URI metrics = URI.create(streams.awaitLine(Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));

            try (SgdscopeProcess train = SgdscopeProcess.start("train", "--bootstrap-servers", broker.bootstrapServers(),
                    "--experiment", EXPERIMENT, "--runs", "" + RUNS, "--iterations", "" + ITERATIONS, "--workers", "2", "--metrics-port", "0")) {
                assertEquals(0, train.awaitExit(Duration.ofSeconds(120)), "train: " + train.stderr());
                assertTrue(train.stdout().contains("Runs: " + RUNS + " completed, 0 diverged, 0 cancelled, 0 failed"),
                        String.join("\n", train.stdout()));
            }

            Map<String, String> loss = Map.of("experiment", EXPERIMENT, "metric", "loss");
            PrometheusScrape scrape = awaitBand(metrics, loss, ITERATIONS - 1, RUNS, Duration.ofSeconds(60));
            double median = scrape.value("sgdscope_cross_run_quantile", Map.of("experiment", EXPERIMENT, "metric", "loss",
                    "quantile", "0.5")).orElseThrow();
            List<IterationMetrics> records = IterationRecords.readAll(broker.bootstrapServers(), RUNS * ITERATIONS, Duration.ofSeconds(30));
            double[] losses = IterationRecords.lossesAt(records, EXPERIMENT, ITERATIONS - 1);
            assertEquals(RUNS, losses.length);
            assertEquals(losses[1], median, Math.ulp(losses[1]), "the median of 3 is the 2nd smallest");

            streams.terminate();
            assertEquals(143, streams.awaitExit(Duration.ofSeconds(60)));
            assertTrue(streams.stdout().contains("Stopping..."), String.join("\n", streams.stdout()));
        }
    }

    private static PrometheusScrape awaitBand(URI metrics, Map<String, String> labels, int iteration, int runs, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        PrometheusScrape scrape = null;
        while (System.nanoTime() < deadline) {
            scrape = PrometheusScrape.of(metrics);
            Optional<Double> at = scrape.value("sgdscope_cross_run_iteration", labels);
            Optional<Double> count = scrape.value("sgdscope_cross_run_runs", labels);
            if (at.isPresent() && at.get() == iteration && count.isPresent() && count.get() == runs) {
                return scrape;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no band of " + runs + " runs at iteration " + iteration + " within " + timeout + ":\n"
                + (scrape == null ? "" : scrape.text().lines().filter(l -> l.startsWith("sgdscope_cross_run")).toList()));
    }
}
