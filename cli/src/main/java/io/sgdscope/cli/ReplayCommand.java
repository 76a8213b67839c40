package io.sgdscope.cli;

import io.sgdscope.analysis.CsvTable;
import io.sgdscope.analysis.TopicReader;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.serde.TelemetrySerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Replay;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.runs.AppScope;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.avro.specific.SpecificRecordBase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Re-runs the streams apps over an experiment's kept history with other settings, into topics (and files) of its own. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run both streams apps again over the history of an experiment (or an iteration range of it), under "
                + "application ids of their own and with settings of their own (e.g. --deviation-delta, --deviation-c, "
                + "--deviation-window), writing to topics of their own: sgd.replay.<name>.quantiles and sgd.replay.<name>.alerts. "
                + "The live apps, their consumer groups and their outputs are not touched. Ends by itself once it has caught up "
                + "with the end offsets the topics had when it started.",
                "With --output the replay's outputs are also written as CSV files (quantiles.csv: the latest summary of each "
                        + "key; alerts.csv)."})
final class ReplayCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--experiment", paramLabel = "ID", required = true, description = "The experiment to replay.")
    String experimentId;

    @Option(names = "--first-iteration", paramLabel = "T", defaultValue = "0",
            description = "Iterations before T are skipped. Default: ${DEFAULT-VALUE}.")
    int firstIteration;

    @Option(names = "--last-iteration", paramLabel = "T", defaultValue = "" + Integer.MAX_VALUE,
            description = "Iterations after T are skipped. Default: all.")
    int lastIteration;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Names the replay's application ids (<application-id>-replay-NAME-...) and topics (sgd.replay.NAME.*). "
                    + "Default: <experiment>-<date>-<time>.")
    String name;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Also write the replay's outputs as CSV files into DIR.")
    Path output;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3600",
            description = "Give up if the replay has not caught up after this long. Default: ${DEFAULT-VALUE}.")
    long timeoutSeconds;

    @Mixin
    TopicSource source;

    @Mixin
    StreamsOptions streams;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String replayName = name != null ? name
                : experimentId + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        if (!replayName.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("replay name must be 1 to 100 of A-Z a-z 0-9 . _ -, got '" + replayName + "'");
        }
        AppScope scope = new AppScope(experimentId, firstIteration, lastIteration, "sgd.replay." + replayName + ".quantiles",
                "sgd.replay." + replayName + ".alerts");
        Path state = Files.createTempDirectory("sgdscope-replay-");
        try (TopicSource.Lease lease = source.open()) {
            StreamsSettings settings = streams.toSettings(lease.connection(), state)
                    .withApplicationId(streams.applicationId + "-replay-" + replayName);
            out.println("Replaying experiment " + experimentId + " as " + settings.applicationId() + " into " + scope.quantilesTopic()
                    + " and " + scope.alertsTopic());
            out.flush();
            Replay.Result result;
            try {
                result = Replay.run(settings, streams.toQuantilesSettings(), streams.toDeviationSettings(), scope,
                        Duration.ofSeconds(timeoutSeconds), message -> {
                            out.println(message);
                            out.flush();
                        });
            } catch (IllegalStateException e) {
                throw new SgdscopeException(e.getMessage(), e);
            }
            Map<String, Long> counts = counts(lease.connection().clientConfig(), scope);
            if (counts.get("quantiles") == 0) {
                throw new SgdscopeException("no records of experiment '" + experimentId + "'"
                        + (firstIteration > 0 || lastIteration < Integer.MAX_VALUE ? " in iterations " + firstIteration + ".." + lastIteration : "")
                        + " on the topics: the replay produced nothing (see 'sgdscope export --experiment' for what is there)");
            }
            out.printf("Done in %.1f s: %,d quantile summaries (latest per key), %,d alerts%n", result.took().toMillis() / 1000.0,
                    counts.get("quantiles"), counts.get("alerts"));
            if (output != null) {
                writeCsv(lease.connection().clientConfig(), scope, output);
                out.println("Wrote " + output.resolve("quantiles.csv") + " and " + output.resolve("alerts.csv"));
            }
            out.flush();
        } finally {
            DemoCommand.WorkFolder.deleteTree(state);
        }
        return 0;
    }

    private static Map<String, Long> counts(Map<String, Object> clientConfig, AppScope scope) {
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("quantiles", (long) latestQuantiles(clientConfig, scope).size());
        long[] alerts = {0};
        try (TopicReader reader = new TopicReader(clientConfig)) {
            reader.readAll(scope.alertsTopic(), record -> alerts[0]++);
        }
        counts.put("alerts", alerts[0]);
        return counts;
    }

    private static Map<String, QuantileSummary> latestQuantiles(Map<String, Object> clientConfig, AppScope scope) {
        TelemetrySerde<QuantileSummary> serde = TelemetrySerdes.quantiles();
        Map<String, QuantileSummary> latest = new LinkedHashMap<>();
        try (TopicReader reader = new TopicReader(clientConfig)) {
            reader.readAll(scope.quantilesTopic(), record -> latest.put(record.key(),
                    serde.decode(record.topic(), record.partition(), record.offset(), record.value())));
        }
        return latest;
    }

    private static void writeCsv(Map<String, Object> clientConfig, AppScope scope, Path folder) throws IOException {
        Files.createDirectories(folder);
        CsvTable quantiles = new CsvTable(QuantileSummary.getClassSchema());
        try (Writer writer = Files.newBufferedWriter(folder.resolve("quantiles.csv"), StandardCharsets.UTF_8)) {
            quantiles.writeHeader(writer);
            for (SpecificRecordBase summary : latestQuantiles(clientConfig, scope).values()) {
                quantiles.writeRow(summary, writer);
            }
        }
        CsvTable alerts = new CsvTable(DeviationAlert.getClassSchema());
        TelemetrySerde<DeviationAlert> serde = TelemetrySerdes.alerts();
        try (Writer writer = Files.newBufferedWriter(folder.resolve("alerts.csv"), StandardCharsets.UTF_8);
             TopicReader reader = new TopicReader(clientConfig)) {
            alerts.writeHeader(writer);
            reader.readAll(scope.alertsTopic(), record -> {
                try {
                    alerts.writeRow(serde.decode(record.topic(), record.partition(), record.offset(), record.value()), writer);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }
}
