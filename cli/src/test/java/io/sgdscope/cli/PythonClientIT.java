package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static io.sgdscope.cli.TopicToEnd.readToEnd;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client against the real pipeline: {@code sgdscope demo --hold} gives a broker and both streams apps,
 * the PyTorch example ({@code examples/pytorch/train_gauss10.py}, Debian's python3-torch, python3-confluent-kafka,
 * python3-avro) publishes a per-run experiment (with the moments and spectra) and a frames experiment into it.
 * Then the Java serdes must read every record of both (each run-iteration once; nothing on the dead-letter topic,
 * no unreadable or failed record counted), the streams apps must draw both experiments' bands on /metrics, count
 * every run COMPLETED and check the per-run experiment's steps against Theorem 1, and the client's
 * {@code read_experiment} must return exactly the iteration rows {@code sgdscope export} writes. README.md's
 * Python snippets run too, as written but for the broker's address.
 *
 * <p>The Python interpreter is {@code /usr/bin/python3} (Debian 12's torch 1.13), or the one named by the system
 * property {@code sgdscope.python}: {@code clients/python/check-torch2.sh} runs this test with a Debian 13 root's
 * python3 (torch 2.x) that way.
 */
class PythonClientIT {

    private static final String PYTHON = System.getProperty("sgdscope.python", "/usr/bin/python3");
    private static final int RUNS = 3;
    private static final int ITERATIONS = 40;
    private static final int FRAME_RUNS = 5;
    private static final int FRAME_ITERATIONS = 30;

    @TempDir
    Path dir;

    @Test
    void theExamplesRecordsAreReadByTheJavaSerdesDrawnByTheStreamsAppsAndReadBackAsTheExportWritesThem() throws Exception {
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--runs", "1", "--iterations", "2", "--moments-every", "0",
                "--spectrum-every", "0", "--experiment", "java-warmup", "--metrics-port", "0", "--hold")) {
            String bootstrap = demo.awaitLine(Pattern.compile("^Kafka broker: (\\S+)"), Duration.ofSeconds(90)).group(1);
            URI metrics = URI.create(demo.awaitLine(Pattern.compile("^Metrics: (\\S+)"), Duration.ofSeconds(90)).group(1));
            demo.awaitLine(Pattern.compile("^Holding the broker"), Duration.ofSeconds(180));

            String perRun = example(bootstrap, "py-runs", "--runs", "" + RUNS, "--iterations", "" + ITERATIONS,
                    "--moments-every", "5", "--spectrum-every", "20", "--top-k", "3");
            assertTrue(perRun.contains("0 dropped (producer queue full), 0 failed"), perRun);
            String frames = example(bootstrap, "py-frames", "--runs", "" + FRAME_RUNS, "--iterations", "" + FRAME_ITERATIONS,
                    "--frames");
            assertTrue(frames.contains("0 dropped (producer queue full), 0 failed"), frames);

            // README.md's snippets, as written (the broker's address put in): they publish and read back.
            String readme = readmeSnippets(bootstrap);
            assertTrue(readme.contains("Telemetry: 202 records sent (iteration 200, run_finished 1, run_started 1), 0 dropped"),
                    readme);

            // The Java serdes read everything; each run-iteration is there once, in order.
            Map<String, List<Integer>> iterations = new TreeMap<>();
            Map<String, Integer> frameRecords = new HashMap<>();
            readToEnd(bootstrap, Topics.ITERATIONS, record -> {
                Frame frame = TelemetrySerdes.frames().decode(record.topic(), record.partition(), record.offset(), record.value());
                if (frame.experimentId().startsWith("py-")) {
                    frameRecords.merge(frame.experimentId() + (frame.size() > 1 ? "/frame" : "/record"), 1, Integer::sum);
                    for (int i = 0; i < frame.size(); i++) {
                        iterations.computeIfAbsent(frame.runId(i), r -> new ArrayList<>()).add(frame.iteration());
                    }
                }
            });
            for (int r = 0; r < RUNS; r++) {
                assertEquals(IntStream.range(0, ITERATIONS).boxed().toList(), iterations.get(String.format("py-runs-r%05d", r)));
            }
            for (int r = 0; r < FRAME_RUNS; r++) {
                assertEquals(IntStream.range(0, FRAME_ITERATIONS).boxed().toList(), iterations.get(String.format("py-frames-r%05d", r)));
            }
            assertEquals(RUNS * ITERATIONS, frameRecords.get("py-runs/record"), "per-run records: " + frameRecords);
            assertEquals(FRAME_ITERATIONS, frameRecords.get("py-frames/frame"), "one frame per iteration: " + frameRecords);

            Map<String, RunStatus> finished = new HashMap<>();
            Map<String, String> frameKeys = new HashMap<>();
            readToEnd(bootstrap, Topics.RUNS, record -> {
                Object value = TelemetrySerdes.runs().decode(record.topic(), record.partition(), record.offset(), record.value());
                if (value instanceof RunStarted started && started.getExperimentId().startsWith("py-")) {
                    frameKeys.put(started.getRunId(), String.valueOf(started.getFrameKey()));
                } else if (value instanceof RunFinished end && end.getExperimentId().startsWith("py-")) {
                    finished.put(end.getRunId(), end.getStatus());
                    assertEquals(0L, end.getDroppedRecords());
                }
            });
            assertEquals(RUNS + FRAME_RUNS, finished.size(), "finished: " + finished);
            assertTrue(finished.values().stream().allMatch(s -> s == RunStatus.COMPLETED), "finished: " + finished);
            assertEquals("null", frameKeys.get("py-runs-r00001"), "a run published per run names no frame key");
            assertEquals("py-frames-r00000", frameKeys.get("py-frames-r00004"), "a frame run names its frame key");

            List<SpectrumSnapshot> spectra = new ArrayList<>();
            readToEnd(bootstrap, Topics.SPECTRA, record -> {
                SpectrumSnapshot s = TelemetrySerdes.spectra().decode(record.topic(), record.partition(), record.offset(), record.value());
                if (s.getExperimentId().equals("py-runs")) {
                    spectra.add(s);
                }
            });
            assertEquals(RUNS * 2, spectra.size(), "a SpectrumSnapshot at t = 0 and 20 of each run");
            for (SpectrumSnapshot s : spectra) {
                List<Double> h = s.getHessianEigenvalues();
                assertEquals(3, h.size());
                assertTrue(h.get(0) >= h.get(1) && h.get(1) >= h.get(2), "largest first: " + h);
                assertTrue(s.getPrincipalAngleCosines().stream().allMatch(c -> c >= -1e-12 && c <= 1 + 1e-12), "cosines in [0, 1]");
                // v4: the Python client's Lanczos products (steps >= k, plus k residual checks); M_t comes from the Gram matrix.
                assertTrue(s.getHessianMatvecs() != null && s.getHessianMatvecs() >= 6, "hessianMatvecs " + s.getHessianMatvecs());
                assertTrue(s.getPredictionHessianMatvecs() != null && s.getPredictionHessianMatvecs() >= 6,
                        "predictionHessianMatvecs " + s.getPredictionHessianMatvecs());
                assertNull(s.getSecondMomentMatvecs(), "no M_t products in the Python client");
            }
            assertEquals(0, readToEnd(bootstrap, Topics.DEAD_LETTERS, record -> { }), "nothing went to the dead-letter topic");

            // The streams apps: bands, runs completed, Theorem 1 steps, nothing unreadable or failed.
            PrometheusScrape scrape = awaitMetrics(metrics, Duration.ofSeconds(120));
            for (String experiment : List.of("py-runs", "py-frames")) {
                assertTrue(scrape.value("sgdscope_cross_run_quantile", Map.of("experiment", experiment, "metric", "loss",
                        "quantile", "0.5")).isPresent(), experiment + " has a loss band on /metrics");
            }
            double inside = scrape.value("sgdscope_theorem1_steps_total", Map.of("experiment", "py-runs", "outcome", "inside")).orElse(0.0);
            double exceeded = scrape.value("sgdscope_theorem1_steps_total", Map.of("experiment", "py-runs", "outcome", "exceeded")).orElse(0.0);
            assertTrue(inside + exceeded >= RUNS * (ITERATIONS / 5 - 1), "steps checked against Theorem 1: " + inside + " + " + exceeded);
            for (String line : scrape.text().split("\n")) {
                if (line.startsWith("sgdscope_unreadable_records_total") || line.startsWith("sgdscope_failed_records_total")) {
                    assertEquals(0.0, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), line);
                }
            }

            // read_experiment returns the rows the Java export writes.
            for (String experiment : List.of("py-runs", "py-frames")) {
                Path out = dir.resolve(experiment);
                try (SgdscopeProcess export = SgdscopeProcess.start("export", "--bootstrap-servers", bootstrap,
                        "--experiment", experiment, "--output", out.toString())) {
                    assertEquals(0, export.awaitExit(Duration.ofSeconds(120)), String.join("\n", export.stderr()));
                }
                JsonNode compared = new ObjectMapper().readTree(python(List.of(PYTHON, "src/test/python/compare_read_experiment.py",
                        bootstrap, experiment, out.resolve("iterations.csv").toString()), Duration.ofSeconds(180)));
                int rows = experiment.equals("py-runs") ? RUNS * ITERATIONS : FRAME_RUNS * FRAME_ITERATIONS;
                assertEquals(rows, compared.get("rows").asInt(), experiment);
                assertEquals(rows, compared.get("csv_rows").asInt(), experiment);
                assertEquals(compared.get("csv_columns"), compared.get("columns"), experiment);
                assertEquals("[]", compared.get("mismatches").toString(), experiment);
            }
            demo.terminate();
            demo.awaitExit(Duration.ofSeconds(60));
        }
    }

    /** Runs the Python blocks of README.md's section "Watch your own training (PyTorch)" against this broker. */
    private String readmeSnippets(String bootstrap) throws Exception {
        String readme = Files.readString(SourceTree.root().resolve("README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("## Watch your own training (PyTorch)");
        assertTrue(start >= 0, "README.md has a section \"Watch your own training (PyTorch)\"");
        int end = readme.indexOf("\n## ", start + 3);
        Matcher block = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL).matcher(readme.substring(start, end));
        StringBuilder program = new StringBuilder();
        int blocks = 0;
        while (block.find()) {
            program.append(block.group(1)).append('\n');
            blocks++;
        }
        assertEquals(2, blocks, "the section shows publishing and reading back");
        Path script = dir.resolve("readme_example.py");
        Files.writeString(script, program.toString().replace("127.0.0.1:9092", bootstrap), StandardCharsets.UTF_8);
        return python(List.of(PYTHON, script.toString()), Duration.ofSeconds(600));
    }

    /** Waits until both experiments' runs all count as completed on /metrics, and returns that scrape. */
    private static PrometheusScrape awaitMetrics(URI metrics, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        PrometheusScrape scrape;
        do {
            scrape = PrometheusScrape.of(metrics);
            double runs = scrape.value("sgdscope_experiment_runs", Map.of("experiment", "py-runs", "state", "completed")).orElse(0.0);
            double frames = scrape.value("sgdscope_experiment_runs", Map.of("experiment", "py-frames", "state", "completed")).orElse(0.0);
            if (runs == RUNS && frames == FRAME_RUNS) {
                return scrape;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the streams apps did not count every run of the Python experiments completed within "
                + timeout + ":\n" + scrape.text().lines().filter(l -> l.startsWith("sgdscope_experiment_runs{")).toList());
    }

    private static String example(String bootstrap, String experiment, String... options) throws Exception {
        Path script = SourceTree.root().resolve("examples/pytorch/train_gauss10.py");
        List<String> command = new ArrayList<>(List.of(PYTHON, script.toString(), "--bootstrap-servers", bootstrap,
                "--experiment", experiment));
        command.addAll(List.of(options));
        return python(command, Duration.ofSeconds(600));
    }

    /** Runs a Python command with the client on its path; its stdout, or an AssertionError with stderr. */
    private static String python(List<String> command, Duration timeout) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE);
        builder.environment().put("PYTHONPATH", SourceTree.root().resolve("clients/python/src").toString());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        byte[][] streams = new byte[2][];
        Thread err = new Thread(() -> {
            try {
                streams[1] = process.getErrorStream().readAllBytes();
            } catch (java.io.IOException e) {
                streams[1] = e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        err.start();
        streams[0] = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not end within " + timeout);
        }
        err.join(5_000);
        String out = new String(streams[0], StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionError(command + " exited " + process.exitValue() + " (Debian's python3-torch, "
                    + "python3-confluent-kafka, python3-avro and python3-pandas are needed; .ci/run installs them):\n" + out
                    + "\n" + new String(streams[1] == null ? new byte[0] : streams[1], StandardCharsets.UTF_8));
        }
        return out;
    }
}
