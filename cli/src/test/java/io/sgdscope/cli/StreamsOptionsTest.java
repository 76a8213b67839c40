package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options of {@code sgdscope streams} (and {@code demo}) become the apps' settings, checked before anything starts. */
class StreamsOptionsTest {

    private static StreamsOptions parse(String... args) {
        StreamsCommand command = new StreamsCommand();
        new CommandLine(command).parseArgs(args);
        return command.streams;
    }

    @Test
    void defaultsAreTheAppsDefaults() {
        StreamsOptions options = parse();
        StreamsSettings settings = options.toSettings(new KafkaConnection("kafka:9092", Map.of()), Path.of("state"));
        assertEquals("sgdscope-quantiles", settings.quantilesApplicationId());
        assertEquals("sgdscope-deviation", settings.deviationApplicationId());
        assertEquals(Duration.ofMillis(100), settings.commitInterval());
        assertEquals(0, settings.standbyReplicas());
        assertEquals(QuantilesSettings.defaults(), options.toQuantilesSettings());
        assertEquals(DeviationSettings.defaults(), options.toDeviationSettings());
    }

    @Test
    void everySettingHasAnOption() {
        StreamsOptions options = parse("--application-id", "lab", "--standby-replicas", "1", "--commit-interval", "250",
                "--quantile-metrics", "loss,lossDelta,sgNorm", "--watched-runs", "3", "--rolling-window", "20",
                "--deviation-delta", "0.05", "--deviation-c", "0.5", "--deviation-window", "40",
                "--deviation-alert-level", "0.01", "--divergence-factor", "4", "--run-stall-timeout", "90");
        StreamsSettings settings = options.toSettings(new KafkaConnection("kafka:9092", Map.of()), Path.of("state"));
        assertEquals("lab-deviation", settings.deviationApplicationId());
        assertEquals(1, settings.standbyReplicas());
        assertEquals(Duration.ofMillis(250), settings.commitInterval());
        QuantilesSettings quantiles = options.toQuantilesSettings();
        assertEquals(List.of("loss", "lossDelta", "sgNorm"), quantiles.metrics());
        assertEquals(3, quantiles.watchedRuns());
        assertEquals(20, quantiles.rollingWindow());
        assertEquals(Duration.ofSeconds(90), quantiles.runStallTimeout());
        assertEquals(new DeviationSettings(0.05, 0.5, 40, 0.01, 4, 3), options.toDeviationSettings());
    }

    @Test
    void aBadSettingIsABadArgumentInOneLineBeforeKafkaIsContacted() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Sgdscope.commandLine();
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute("streams", "--bootstrap-servers", "127.0.0.1:1", "--deviation-delta", "2");
        assertEquals(2, exit);
        assertEquals("sgdscope streams: delta must be in (0, 1), was 2.0 (see 'sgdscope streams --help')", err.toString().strip());

        StringWriter err2 = new StringWriter();
        CommandLine again = Sgdscope.commandLine();
        again.setErr(new PrintWriter(err2));
        assertEquals(2, again.execute("streams", "--bootstrap-servers", "127.0.0.1:1", "--quantile-metrics", "sgNorm"));
        assertTrue(err2.toString().startsWith("sgdscope streams: metrics must include loss"), err2.toString());

        StringWriter err3 = new StringWriter();
        CommandLine third = Sgdscope.commandLine();
        third.setErr(new PrintWriter(err3));
        assertEquals(2, third.execute("streams", "--bootstrap-servers", "127.0.0.1:1", "--run-stall-timeout", "-5"));
        assertTrue(err3.toString().startsWith("sgdscope streams: run stall timeout must be in 0 s (never) .. 30 days"),
                err3.toString());
    }
}
