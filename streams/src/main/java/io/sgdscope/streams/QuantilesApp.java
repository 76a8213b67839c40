package io.sgdscope.streams;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.streams.quantiles.ExperimentStatuses;
import io.sgdscope.streams.quantiles.QuantileBands;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.streams.quantiles.QuantilesTopology;
import io.sgdscope.streams.runs.AppScope;
import io.sgdscope.streams.quantiles.TrackedMetric;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams.State;

/**
 * The quantiles app: the {@link QuantilesTopology} on Kafka Streams (application id
 * {@code <id>-quantiles}) and its meters.
 *
 * <pre>
 * try (QuantilesApp app = QuantilesApp.start(settings, QuantilesSettings.defaults())) {
 *     app.awaitRunning(Duration.ofSeconds(30));
 *     app.bands().current("gauss10", "loss").ifPresent(band -> ...band.median()...);
 * }
 * </pre>
 *
 * To run it together with the deviation app in one process, use {@link StreamsApps}.
 */
public final class QuantilesApp implements AutoCloseable {

    /** How long {@link #close()} waits for Kafka Streams to commit and leave. */
    public static final Duration CLOSE_TIMEOUT = AppRunner.CLOSE_TIMEOUT;

    private final StreamsSettings settings;
    private final QuantilesSettings quantiles;
    private final MeterRegistry registry;
    private final QuantileBands bands;
    private final ExperimentStatuses experiments;
    private final AppRunner runner;
    private Serving serving;

    QuantilesApp(StreamsSettings settings, QuantilesSettings quantiles, MeterRegistry registry, int partitions) {
        this(settings, quantiles, registry, partitions, AppScope.LIVE);
    }

    QuantilesApp(StreamsSettings settings, QuantilesSettings quantiles, MeterRegistry registry, int partitions, AppScope scope) {
        this.settings = settings;
        this.quantiles = quantiles;
        this.registry = registry;
        this.bands = new QuantileBands(registry);
        this.experiments = new ExperimentStatuses(registry);
        boolean spectra = quantiles.metrics().stream()
                .anyMatch(name -> TrackedMetric.named(name).source() == TrackedMetric.Source.SPECTRUM);
        QuantilesTopology topology = new QuantilesTopology(quantiles, partitions, bands, experiments, registry, Clock.systemUTC(),
                scope);
        this.runner = new AppRunner("quantiles app", settings, settings.quantilesApplicationId(), topology.build(), registry,
                AppRunner.inputTopics(spectra));
    }

    /**
     * Starts the app with a registry of its own, JVM metrics, and a metrics server on
     * {@code settings.metricsHost():settings.metricsPort()}.
     *
     * @throws java.io.UncheckedIOException if the metrics port is taken (nothing is left running)
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static QuantilesApp start(StreamsSettings settings, QuantilesSettings quantiles) {
        int partitions = TopicCheck.inspect(settings);
        Serving serving = new Serving();
        QuantilesApp app = null;
        try {
            app = new QuantilesApp(settings, quantiles, serving.registry(), partitions);
            app.serving = serving;
            QuantilesApp started = app;
            serving.serve(settings, started::health, started::readiness);
            app.runner.start();
            return app;
        } catch (RuntimeException e) {
            closeAfterFailedStart(app, serving, e);
            throw e;
        }
    }

    /** {@link #start(StreamsSettings, QuantilesSettings)} with the default quantiles settings. */
    public static QuantilesApp start(StreamsSettings settings) {
        return start(settings, QuantilesSettings.defaults());
    }

    /**
     * Starts the app with its meters in the caller's registry and no metrics server: for a process that
     * serves one registry of its own. The settings' metrics host and port are unused.
     *
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static QuantilesApp start(StreamsSettings settings, QuantilesSettings quantiles, MeterRegistry registry) {
        QuantilesApp app = new QuantilesApp(settings, quantiles, registry, TopicCheck.inspect(settings));
        try {
            app.runner.start();
            return app;
        } catch (RuntimeException e) {
            closeAfterFailedStart(app, null, e);
            throw e;
        }
    }

    /** {@link #start(StreamsSettings, QuantilesSettings, MeterRegistry)} with the default quantiles settings. */
    public static QuantilesApp start(StreamsSettings settings, MeterRegistry registry) {
        return start(settings, QuantilesSettings.defaults(), registry);
    }

    /** Starts an app built by {@link StreamsApps}. */
    void start() {
        runner.start();
    }

    /**
     * Waits until Kafka Streams runs (joined the group, restored its state).
     *
     * @return true when running, false if the timeout passed first
     * @throws IllegalStateException if the app stopped or failed instead
     */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        return runner.awaitRunning(timeout);
    }

    /** The current band of each experiment and metric. */
    public QuantileBands bands() {
        return bands;
    }

    /** The frontier and run counts of each experiment. */
    public ExperimentStatuses experiments() {
        return experiments;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public State state() {
        return runner.state();
    }

    /** Alive while Kafka Streams runs, rebalances or starts. */
    public MetricsServer.Health health() {
        return runner.health();
    }

    /** Ready while Kafka Streams runs. */
    public MetricsServer.Health readiness() {
        return runner.readiness();
    }

    /** The Kafka Streams client (for tests). */
    AppRunner runner() {
        return runner;
    }

    /** Why the app can no longer process (stopped, failed, no live stream thread), one line; null while it can. */
    String failure() {
        return runner.failure();
    }

    /** The port of the metrics server, or -1 when the caller serves the registry. */
    public int metricsPort() {
        return serving == null ? -1 : serving.port();
    }

    public StreamsSettings settings() {
        return settings;
    }

    public QuantilesSettings quantilesSettings() {
        return quantiles;
    }

    public String applicationId() {
        return runner.applicationId();
    }

    /**
     * Stops processing (waiting at most {@link #CLOSE_TIMEOUT} for a last commit) and leaves the group,
     * then stops the meters and the server.
     */
    @Override
    public void close() {
        runner.close();
        if (serving != null) {
            serving.close();
        }
    }

    private static void closeAfterFailedStart(QuantilesApp app, Serving serving, RuntimeException failure) {
        try {
            if (app != null) {
                app.runner.close();
            }
            if (serving != null) {
                serving.close();
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
