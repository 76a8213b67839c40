package io.sgdscope.cli;

import io.sgdscope.streams.QuantilesApp;
import io.sgdscope.streams.StreamsSettings;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the streams app against a Kafka cluster until Ctrl-C / SIGTERM (how deployments run it). */
@Command(name = "streams", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the quantiles app: cross-run quantiles of the loss per experiment and iteration "
                + "(sgd.iterations -> sgd.quantiles), served to Prometheus on http://HOST:PORT/metrics with a "
                + "health check on /health.",
                "Runs until Ctrl-C or SIGTERM, then closes gracefully."})
final class StreamsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    StreamsOptions streams;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Folder of the state stores (RocksDB). Default: <tmp>/sgdscope-streams/<application id>.")
    Path stateDir;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        KafkaConnection connection = kafka.connection();
        Path state = stateDir != null ? stateDir
                : Path.of(System.getProperty("java.io.tmpdir"), "sgdscope-streams", streams.applicationId);
        StreamsSettings settings = streams.toSettings(connection, state);
        kafka.prepare(connection, out);

        try (ShutdownSignal signal = new ShutdownSignal(() -> { })) {
            try (QuantilesApp app = start(settings)) {
                out.println("Quantiles app " + settings.applicationId() + " on " + connection.bootstrapServers()
                        + ", state in " + state);
                out.println("Metrics: http://" + settings.metricsHost() + ":" + app.metricsPort() + "/metrics (health: /health)");
                out.flush();
                if (!app.awaitRunning(Duration.ofSeconds(60))) {
                    out.println("Still waiting for Kafka Streams to start (state " + app.state() + ")...");
                    out.flush();
                }
                signal.await();
                out.println("Stopping...");
                out.flush();
            }
        }
        return 0;
    }

    static QuantilesApp start(StreamsSettings settings) {
        try {
            return QuantilesApp.start(settings);
        } catch (UncheckedIOException e) {
            throw new SgdscopeException(e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new SgdscopeException("cannot start the quantiles app: " + e.getMessage(), e);
        }
    }
}
