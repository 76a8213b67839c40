package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's main job, as a user runs it: {@code sgdscope demo} in its own process, a small experiment
 * through trainer -> embedded Kafka -> streams -> Prometheus endpoint. The test reads the topic itself
 * and checks the scraped median against the median it computes from the records.
 */
class DemoPipelineIT {

    private static final String EXPERIMENT = "it-demo";
    private static final int RUNS = 5;
    private static final int ITERATIONS = 50;

    @Test
    void theScrapedLossMedianEqualsTheMedianOfTheLossesOnTheTopic() throws Exception {
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--runs", "" + RUNS, "--iterations", "" + ITERATIONS,
                "--experiment", EXPERIMENT, "--metrics-port", "0", "--workers", "2", "--hold")) {
            Path workFolder = Path.of(demo.awaitLine(java.util.regex.Pattern.compile("^Work folder: (\\S+)"), Duration.ofSeconds(60)).group(1));
            String bootstrap = demo.awaitLine(java.util.regex.Pattern.compile("^Kafka broker: (\\S+)"), Duration.ofSeconds(60)).group(1);
            URI metrics = URI.create(demo.awaitLine(java.util.regex.Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));
            demo.awaitLine(java.util.regex.Pattern.compile("^Holding the broker"), Duration.ofSeconds(120));
            assertLiveViewLine(demo.stdout());
            assertTrue(demo.stdout().stream().anyMatch(line -> line.contains("ensemble engine")), String.join("\n",
                    demo.stdout()));
            assertTrue(Files.isDirectory(workFolder.resolve("kafka")), "the broker keeps its data in the work folder");

            PrometheusScrape scrape = PrometheusScrape.of(metrics);
            Map<String, String> loss = Map.of("experiment", EXPERIMENT, "metric", "loss");
            int iteration = scrape.value("sgdscope_cross_run_iteration", loss).orElseThrow().intValue();
            double runs = scrape.value("sgdscope_cross_run_runs", loss).orElseThrow();
            double median = scrape.value("sgdscope_cross_run_quantile", Map.of("experiment", EXPERIMENT, "metric", "loss",
                    "quantile", "0.5")).orElseThrow();
            assertEquals(ITERATIONS - 1, iteration, "after the experiment the band is at the last iteration");
            assertEquals(RUNS, runs, 0.0);

            List<IterationMetrics> records = IterationRecords.readAll(bootstrap, RUNS * ITERATIONS, Duration.ofSeconds(30));
            assertEquals(RUNS * ITERATIONS, records.size(), "one record per run per iteration");
            double[] losses = IterationRecords.lossesAt(records, EXPERIMENT, iteration);
            assertEquals(RUNS, losses.length);
            // With 5 values the sketch keeps them all: its median (the ceil(n/2)-th smallest) is exact.
            double exactMedian = losses[(int) Math.ceil(0.5 * losses.length) - 1];
            assertEquals(exactMedian, median, Math.ulp(exactMedian));
            assertEquals(losses[0], scrape.value("sgdscope_cross_run_min", loss).orElseThrow(), 0.0);
            assertEquals(losses[RUNS - 1], scrape.value("sgdscope_cross_run_max", loss).orElseThrow(), 0.0);

            demo.terminate();
            int exit = demo.awaitExit(Duration.ofSeconds(60));
            assertEquals(143, exit, "SIGTERM ends the JVM with 128 + 15 after the cleanup");
            assertTrue(demo.stdout().contains("Work folder removed."), "exit " + exit + "\n" + String.join("\n", demo.stdout())
                    + "\nstderr:\n" + String.join("\n", demo.stderr()));
            assertFalse(Files.exists(workFolder), "the work folder is removed at exit without --keep");
        }
    }

    /**
     * The summary says how far the live bands were behind when training ended: a frontier in -1..T-1 of
     * the last iteration T-1, the lag in iterations the difference of the two (0..T), and a catch-up time
     * within the demo's wait for the streams apps.
     */
    private static void assertLiveViewLine(List<String> stdout) {
        java.util.regex.Pattern live = java.util.regex.Pattern.compile("^Live view: (?:bands at iteration (\\d+) of (\\d+)|no bands yet)"
                + " when training ended \\((\\d+) iterations? behind\\), caught up (\\d+\\.\\d) s later$");
        java.util.regex.Matcher line = stdout.stream().map(live::matcher).filter(java.util.regex.Matcher::matches).findFirst()
                .orElseThrow(() -> new AssertionError("no caught-up 'Live view:' line in\n" + String.join("\n", stdout)));
        int frontier = line.group(1) == null ? -1 : Integer.parseInt(line.group(1));
        int last = line.group(2) == null ? ITERATIONS - 1 : Integer.parseInt(line.group(2));
        int behind = Integer.parseInt(line.group(3));
        double seconds = Double.parseDouble(line.group(4));
        assertEquals(ITERATIONS - 1, last, line.group());
        assertTrue(frontier >= -1 && frontier <= last, line.group());
        assertEquals(last - frontier, behind, line.group());
        assertTrue(behind >= 0 && behind <= ITERATIONS, line.group());
        assertTrue(seconds >= 0 && seconds <= 90, "within the demo's wait for the streams apps: " + line.group());
    }
}
