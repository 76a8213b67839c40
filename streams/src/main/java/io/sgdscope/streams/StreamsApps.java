package io.sgdscope.streams;

import io.sgdscope.streams.runs.AppScope;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Both apps in one process, as {@code sgdscope streams} and {@code sgdscope demo} run them: the
 * quantiles app and the deviation app, one registry with the JVM's meters, one metrics server
 * ({@code /metrics}, {@code /health} alive while both are, {@code /ready} while both run). Once an app
 * fails or has no live stream thread, {@link #failure()} says so and {@code /health} answers 503.
 *
 * <pre>
 * try (StreamsApps apps = StreamsApps.start(settings, QuantilesSettings.defaults(), DeviationSettings.defaults())) {
 *     apps.awaitRunning(Duration.ofSeconds(60));
 *     ... apps.quantiles().bands() ... apps.deviation().alerts() ...
 * }
 * </pre>
 */
public final class StreamsApps implements AutoCloseable {

    private final Serving serving;
    private final QuantilesApp quantiles;
    private final DeviationApp deviation;

    private StreamsApps(Serving serving, QuantilesApp quantiles, DeviationApp deviation) {
        this.serving = serving;
        this.quantiles = quantiles;
        this.deviation = deviation;
    }

    /**
     * Checks the topics, starts the metrics server and both apps.
     *
     * @throws java.io.UncheckedIOException if the metrics port is taken (nothing is left running)
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static StreamsApps start(StreamsSettings settings, QuantilesSettings quantilesSettings,
                                    DeviationSettings deviationSettings) {
        return start(settings, quantilesSettings, deviationSettings, AppScope.LIVE);
    }

    /** As {@link #start(StreamsSettings, QuantilesSettings, DeviationSettings)}, reading and writing as {@code scope} says. */
    public static StreamsApps start(StreamsSettings settings, QuantilesSettings quantilesSettings,
                                    DeviationSettings deviationSettings, AppScope scope) {
        int partitions = TopicCheck.inspect(settings);
        Serving serving = new Serving();
        QuantilesApp quantiles = null;
        DeviationApp deviation = null;
        try {
            quantiles = new QuantilesApp(settings, quantilesSettings, serving.registry(), partitions, scope);
            deviation = new DeviationApp(settings, deviationSettings, serving.registry(), partitions, scope);
            StreamsApps apps = new StreamsApps(serving, quantiles, deviation);
            serving.serve(settings, apps::health, apps::readiness);
            quantiles.start();
            deviation.start();
            return apps;
        } catch (RuntimeException e) {
            try {
                if (deviation != null) {
                    deviation.close();
                }
                if (quantiles != null) {
                    quantiles.close();
                }
                serving.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public QuantilesApp quantiles() {
        return quantiles;
    }

    public DeviationApp deviation() {
        return deviation;
    }

    public MeterRegistry registry() {
        return serving.registry();
    }

    public int metricsPort() {
        return serving.port();
    }

    /**
     * Waits until both apps run.
     *
     * @return true when both run, false if the timeout passed first
     * @throws IllegalStateException if an app stopped or failed instead
     */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!quantiles.awaitRunning(timeout)) {
            return false;
        }
        return deviation.awaitRunning(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    /**
     * Why the apps can no longer process, one line naming the app and the reason (it stopped or failed, or it
     * has no live stream thread), or empty while both can: a process that runs them should then exit.
     */
    public Optional<String> failure() {
        String quantilesFailure = quantiles.failure();
        return Optional.ofNullable(quantilesFailure != null ? quantilesFailure : deviation.failure());
    }

    public MetricsServer.Health health() {
        return Serving.both(quantiles.health(), deviation.health());
    }

    public MetricsServer.Health readiness() {
        return Serving.both(quantiles.readiness(), deviation.readiness());
    }

    /** Closes both apps at once (each commits and leaves its group), then the server and the registry. */
    @Override
    public void close() {
        CompletableFuture<Void> closingDeviation = CompletableFuture.runAsync(deviation::close);
        RuntimeException failure = null;
        try {
            quantiles.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            closingDeviation.join();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        serving.close();
        if (failure != null) {
            throw failure;
        }
    }
}
