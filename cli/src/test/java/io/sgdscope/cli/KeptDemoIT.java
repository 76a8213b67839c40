package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop with nothing but a JDK: demo --keep leaves the topics; replay, export and report --embedded read them back. */
class KeptDemoIT {

    @TempDir
    Path dir;

    @Test
    void aKeptDemoIsExportedAndReportedThroughAnEmbeddedBroker() throws Exception {
        Path work = dir.resolve("work");
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--runs", "3", "--iterations", "10", "--experiment", "kept",
                "--metrics-port", "0", "--workers", "2", "--keep", "--work-dir", work.toString())) {
            assertEquals(0, demo.awaitExit(Duration.ofSeconds(120)), String.join("\n", demo.stderr()));
        }
        Path out = dir.resolve("csv");
        try (SgdscopeProcess export = SgdscopeProcess.start("export", "--embedded", work.toString(), "--experiment", "kept",
                "--output", out.toString())) {
            assertEquals(0, export.awaitExit(Duration.ofSeconds(120)), String.join("\n", export.stderr()));
            assertTrue(export.stdout().contains(out.resolve("iterations.csv") + ": 30 rows"), String.join("\n", export.stdout()));
        }
        List<String> lines = Files.readAllLines(out.resolve("iterations.csv"));
        assertEquals(31, lines.size(), "a header and one row per run per iteration");
        assertTrue(lines.get(0).startsWith("runId,experimentId,iteration,timestampMillis,loss,"), lines.get(0));
        assertEquals(4, Files.readAllLines(out.resolve("runs_started.csv")).size());
        assertEquals(4, Files.readAllLines(out.resolve("runs_finished.csv")).size());

        Path report = dir.resolve("report.html");
        try (SgdscopeProcess reportProcess = SgdscopeProcess.start("report", "--embedded", work.toString(), "--experiment", "kept",
                "--output", report.toString())) {
            assertEquals(0, reportProcess.awaitExit(Duration.ofSeconds(120)), String.join("\n", reportProcess.stderr()));
            java.util.regex.Matcher line = java.util.regex.Pattern.compile("^Report: " + java.util.regex.Pattern.quote(report.toString())
                    + " \\((\\d+) figures drawn").matcher(reportProcess.stdout().get(0));
            assertTrue(line.find(), reportProcess.stdout().get(0));
            assertTrue(Integer.parseInt(line.group(1)) >= 5, "at least Fig. 8 (three), 9 and 10: " + reportProcess.stdout().get(0));
        }
        String html = Files.readString(report);
        for (String figure : List.of("fig8-loss", "fig8-cosine", "fig8-norm", "fig9", "fig10")) {
            assertTrue(html.contains("<svg id='" + figure + "'"), figure);
        }

        Path replayed = dir.resolve("replayed");
        try (SgdscopeProcess replay = SgdscopeProcess.start("replay", "--embedded", work.toString(), "--experiment", "kept",
                "--name", "again", "--deviation-delta", "0.001", "--output", replayed.toString())) {
            assertEquals(0, replay.awaitExit(Duration.ofSeconds(180)), String.join("\n", replay.stderr()));
            String done = replay.stdout().stream().filter(l -> l.startsWith("Done in ")).findFirst()
                    .orElseThrow(() -> new AssertionError(String.join("\n", replay.stdout())));
            java.util.regex.Matcher counts = java.util.regex.Pattern.compile("([\\d,]+) quantile summaries").matcher(done);
            assertTrue(counts.find(), done);
            int summaries = Integer.parseInt(counts.group(1).replace(",", ""));
            assertTrue(summaries >= 10, "at least the loss of every iteration: " + done);
            assertEquals(summaries + 1, Files.readAllLines(replayed.resolve("quantiles.csv")).size(), "a header and a row per key");
            assertTrue(Files.readAllLines(replayed.resolve("alerts.csv")).get(0).startsWith("runId,experimentId,iteration,check,"));
        }

        try (SgdscopeProcess nothing = SgdscopeProcess.start("replay", "--embedded", work.toString(), "--experiment", "other",
                "--name", "nothing")) {
            assertEquals(1, nothing.awaitExit(Duration.ofSeconds(180)));
            assertEquals(List.of("sgdscope: error: no records of experiment 'other' on the topics: the replay produced nothing "
                    + "(see 'sgdscope export --experiment' for what is there) (--verbose shows details)"), nothing.stderr());
        }

        try (SgdscopeProcess missing = SgdscopeProcess.start("export", "--embedded", work.toString(), "--experiment", "other",
                "--output", dir.resolve("none").toString())) {
            assertEquals(1, missing.awaitExit(Duration.ofSeconds(120)));
            assertEquals(List.of("sgdscope: error: no records of experiment 'other' on the topics (experiments there: kept) "
                    + "(--verbose shows details)"), missing.stderr().stream().filter(l -> !l.startsWith("read ")).toList());
        }
    }
}
