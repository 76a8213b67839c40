package io.sgdscope.cli;

import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs both streams apps against a Kafka cluster until Ctrl-C / SIGTERM (how deployments run them), or until
 * one fails: then it exits 1 with one line naming the app and why, so that a supervisor restarts it.
 */
@Command(name = "streams", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the streams apps in one process: the quantiles app (cross-run quantiles of every metric per "
                + "experiment and iteration, sgd.iterations/sgd.spectra -> sgd.quantiles) and the deviation app (Theorem 1-3 "
                + "checks and divergence per run -> sgd.alerts), served to Prometheus on http://HOST:PORT/metrics with "
                + "/health (liveness) and /ready (readiness).",
                "Runs until Ctrl-C or SIGTERM, then closes gracefully. If an app fails (Kafka Streams state ERROR) or has "
                        + "no live stream thread, /health answers 503 and the command exits with 1 and one line naming the "
                        + "app and why."})
final class StreamsCommand implements Callable<Integer> {

    /** How often the apps are checked for a failure: a failed app ends the process within about this long. */
    static final Duration FAILURE_CHECK_INTERVAL = Duration.ofMillis(500);

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
        QuantilesSettings quantiles = streams.toQuantilesSettings();
        DeviationSettings deviation = streams.toDeviationSettings();
        kafka.prepare(connection, out);

        try (ShutdownSignal signal = new ShutdownSignal(() -> { })) {
            try (StreamsApps apps = start(settings, quantiles, deviation)) {
                out.println("Streams apps " + settings.quantilesApplicationId() + " and " + settings.deviationApplicationId()
                        + " on " + connection.bootstrapServers() + ", state in " + state);
                out.println("Metrics: http://" + settings.metricsHost() + ":" + apps.metricsPort()
                        + "/metrics (health: /health, readiness: /ready)");
                out.flush();
                if (!apps.awaitRunning(Duration.ofSeconds(60))) {
                    out.println("Still waiting for Kafka Streams to start (quantiles app " + apps.quantiles().state()
                            + ", deviation app " + apps.deviation().state() + ")...");
                    out.flush();
                }
                Optional<String> failure = awaitSignalOrFailure(signal, apps);
                if (failure.isPresent()) {
                    // Exit non-zero so that a supervisor (compose's restart policy, systemd, Kubernetes) notices.
                    throw new SgdscopeException(failure.get() + "; stopping the streams apps");
                }
                out.println("Stopping...");
                out.flush();
            }
        }
        return 0;
    }

    /** Waits for Ctrl-C / SIGTERM while checking the apps; returns why they can no longer process, if that came first. */
    static Optional<String> awaitSignalOrFailure(ShutdownSignal signal, StreamsApps apps) throws InterruptedException {
        while (!signal.await(FAILURE_CHECK_INTERVAL)) {
            Optional<String> failure = apps.failure();
            if (failure.isPresent()) {
                return failure;
            }
        }
        return Optional.empty();
    }

    static StreamsApps start(StreamsSettings settings, QuantilesSettings quantiles, DeviationSettings deviation) {
        try {
            return StreamsApps.start(settings, quantiles, deviation);
        } catch (UncheckedIOException e) {
            throw new SgdscopeException(e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new SgdscopeException("cannot start the streams apps: " + e.getMessage(), e);
        }
    }
}
