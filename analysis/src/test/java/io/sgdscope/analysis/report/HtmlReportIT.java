package io.sgdscope.analysis.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportIT {

    @TempDir
    static Path dir;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @BeforeAll
    static void fillTopics() throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", broker.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            SyntheticExperiment.publish(producer);
        }
    }

    @Test
    void everyFigureIsDrawnWithAtLeastOneSeries() throws Exception {
        Path file = dir.resolve("report.html");
        HtmlReport.Summary summary = HtmlReport.write(read(), file);
        assertEquals(List.of(), summary.missing());
        String html = Files.readString(file);
        Matcher svg = Pattern.compile("<svg id='([^']+)'.*?</svg>", Pattern.DOTALL).matcher(html);
        List<String> figures = new ArrayList<>();
        while (svg.find()) {
            figures.add(svg.group(1));
            assertTrue(SvgSeries.drawnElements(svg.group()) >= 1, svg.group(1) + " draws no series");
        }
        assertEquals(List.of("fig8-loss", "fig8-cosine", "fig8-norm", "fig9", "fig10", "fig2-eigenvalues", "fig2-cosines",
                "fig1", "fig11-curvature", "fig11-frobenius", "fig11-bound"), figures);
        // The median line of Fig. 8 joins every iteration: a path with at least ITERATIONS - 1 segments.
        Matcher loss = Pattern.compile("<svg id='fig8-loss'.*?</svg>", Pattern.DOTALL).matcher(html);
        assertTrue(loss.find());
        assertTrue(SvgSeries.longestSeriesPath(loss.group()) >= SyntheticExperiment.ITERATIONS - 1);
        assertTrue(html.contains("<td>THEOREM1_INTERVAL (WARNING)</td><td>2</td>"), "the alerts are counted by check");
        assertTrue(html.contains("&lt;where at most 3 are expected&gt;"), "alert messages are escaped");
    }

    @Test
    void headlessChromiumShowsTheReportWithoutConsoleErrors() throws Exception {
        Path file = dir.resolve("report-chromium.html");
        HtmlReport.write(read(), file);
        Path screenshot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(screenshot);
        Chromium.Result result = Chromium.screenshot(file, screenshot, dir.resolve("chromium-profile"));
        assertEquals(List.of(), result.consoleMessages(), "console messages while loading the report");
        assertTrue(Files.size(screenshot) > 50_000, "a screenshot with the figures on it: " + screenshot);
    }

    @Test
    void theSameRecordsGiveTheSameFile() throws Exception {
        HtmlReport.write(read(), dir.resolve("a.html"));
        HtmlReport.write(read(), dir.resolve("b.html"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.html")), Files.readAllBytes(dir.resolve("b.html")));
    }

    private static ExperimentData read() {
        return ExperimentData.read(Map.of("bootstrap.servers", broker.bootstrapServers()), SyntheticExperiment.ID, n -> { });
    }

}
