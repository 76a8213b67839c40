package io.sgdscope.streams;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.streams.deviation.AlertLog;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.deviation.DeviationTopology;
import io.sgdscope.streams.runs.AppScope;
import io.sgdscope.streams.metrics.MetricsServer;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams.State;

/**
 * The deviation app: the {@link DeviationTopology} on Kafka Streams (application id
 * {@code <id>-deviation}): per-run checks of §5.2–5.4, alerts to sgd.alerts, and its meters.
 *
 * To run it together with the quantiles app in one process, use {@link StreamsApps}.
 */
public final class DeviationApp implements AutoCloseable {

    private final StreamsSettings settings;
    private final DeviationSettings deviation;
    private final MeterRegistry registry;
    private final AlertLog alerts = new AlertLog();
    private final AppRunner runner;
    private Serving serving;

    DeviationApp(StreamsSettings settings, DeviationSettings deviation, MeterRegistry registry, int partitions) {
        this(settings, deviation, registry, partitions, AppScope.LIVE);
    }

    DeviationApp(StreamsSettings settings, DeviationSettings deviation, MeterRegistry registry, int partitions, AppScope scope) {
        this.settings = settings;
        this.deviation = deviation;
        this.registry = registry;
        DeviationTopology topology = new DeviationTopology(deviation, partitions, registry, alerts, Clock.systemUTC(), scope);
        this.runner = new AppRunner("deviation app", settings, settings.deviationApplicationId(), topology.build(), registry,
                AppRunner.inputTopics(false));
    }

    /**
     * Starts the app with a registry of its own, JVM metrics, and a metrics server.
     *
     * @throws java.io.UncheckedIOException if the metrics port is taken (nothing is left running)
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static DeviationApp start(StreamsSettings settings, DeviationSettings deviation) {
        int partitions = TopicCheck.inspect(settings);
        Serving serving = new Serving();
        DeviationApp app = null;
        try {
            app = new DeviationApp(settings, deviation, serving.registry(), partitions);
            app.serving = serving;
            DeviationApp started = app;
            serving.serve(settings, started::health, started::readiness);
            app.runner.start();
            return app;
        } catch (RuntimeException e) {
            try {
                if (app != null) {
                    app.runner.close();
                }
                serving.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Starts the app with its meters in the caller's registry and no metrics server. The settings' metrics
     * host and port are unused.
     *
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static DeviationApp start(StreamsSettings settings, DeviationSettings deviation, MeterRegistry registry) {
        DeviationApp app = new DeviationApp(settings, deviation, registry, TopicCheck.inspect(settings));
        try {
            app.runner.start();
            return app;
        } catch (RuntimeException e) {
            try {
                app.runner.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    void start() {
        runner.start();
    }

    /** @see QuantilesApp#awaitRunning */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        return runner.awaitRunning(timeout);
    }

    /** The alerts raised by this instance (best effort; sgd.alerts is the record). */
    public AlertLog alerts() {
        return alerts;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public State state() {
        return runner.state();
    }

    public MetricsServer.Health health() {
        return runner.health();
    }

    public MetricsServer.Health readiness() {
        return runner.readiness();
    }

    /** Why the app can no longer process (stopped, failed, no live stream thread), one line; null while it can. */
    String failure() {
        return runner.failure();
    }

    public int metricsPort() {
        return serving == null ? -1 : serving.port();
    }

    public StreamsSettings settings() {
        return settings;
    }

    public DeviationSettings deviationSettings() {
        return deviation;
    }

    public String applicationId() {
        return runner.applicationId();
    }

    @Override
    public void close() {
        runner.close();
        if (serving != null) {
            serving.close();
        }
    }
}
