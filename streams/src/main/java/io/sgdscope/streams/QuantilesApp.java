package io.sgdscope.streams;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.streams.quantiles.QuantileBands;
import io.sgdscope.streams.quantiles.QuantilesTopology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KafkaStreams.State;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quantiles app: the {@link QuantilesTopology} on Kafka Streams, its meters (sgdscope's own,
 * Kafka Streams' and, when it owns the registry, the JVM's) and a metrics server.
 *
 * <pre>
 * try (QuantilesApp app = QuantilesApp.start(settings)) {
 *     app.awaitRunning(Duration.ofSeconds(30));
 *     app.bands().current("gauss10", "loss").ifPresent(band -> ...band.median()...);
 * }
 * </pre>
 *
 * An unexpected error in processing stops the app (state ERROR, {@code /health} reports DOWN) rather than
 * retrying the same record forever; unreadable records are skipped (see {@link UnreadableRecordHandler}).
 */
public final class QuantilesApp implements AutoCloseable {

    /** How long {@link #close()} waits for Kafka Streams to commit and leave. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private static final Duration TOPIC_CHECK_TIMEOUT = Duration.ofSeconds(15);
    private static final Logger log = LoggerFactory.getLogger(QuantilesApp.class);
    private static final Set<State> STOPPED = Set.of(State.PENDING_SHUTDOWN, State.NOT_RUNNING, State.PENDING_ERROR, State.ERROR);

    private final StreamsSettings settings;
    private final MeterRegistry registry;
    private final boolean ownsRegistry;
    private final QuantileBands bands;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics streamsMetrics;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Object stateChanged = new Object();
    private MetricsServer server;
    private boolean closed;

    private QuantilesApp(StreamsSettings settings, MeterRegistry registry, boolean ownsRegistry) {
        this.settings = settings;
        this.registry = registry;
        this.ownsRegistry = ownsRegistry;
        this.bands = new QuantileBands(registry);
        UnreadableRecordHandler.counter(registry, Topics.ITERATIONS);

        Properties properties = settings.toStreamsProperties();
        properties.put(UnreadableRecordHandler.METER_REGISTRY_CONFIG, registry);
        streams = new KafkaStreams(QuantilesTopology.forLoss(bands, registry).build(), properties);
        streams.setStateListener((newState, oldState) -> {
            log.info("quantiles app {}: {} -> {}", settings.applicationId(), oldState, newState);
            synchronized (stateChanged) {
                stateChanged.notifyAll();
            }
        });
        streams.setUncaughtExceptionHandler(exception -> {
            log.error("quantiles app {} stops: {}", settings.applicationId(), exception.toString(), exception);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
    }

    /**
     * Starts the app with a registry of its own, JVM metrics, and a metrics server on
     * {@code settings.metricsHost():settings.metricsPort()}.
     *
     * @throws java.io.UncheckedIOException if the metrics port is taken (nothing is left running)
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static QuantilesApp start(StreamsSettings settings) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        QuantilesApp app = new QuantilesApp(settings, registry, true);
        try {
            app.requireDeadLetterTopic();
            app.bindJvmMetrics();
            app.server = MetricsServer.start(settings.metricsHost(), settings.metricsPort(), registry, app::health);
            app.streams.start();
            return app;
        } catch (RuntimeException e) {
            app.closeAfterFailedStart(e);
            throw e;
        }
    }

    /**
     * Starts the app with its meters in the caller's registry and no metrics server: for a process that
     * runs several apps and serves one registry (the demo). The settings' metrics host and port are unused.
     *
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    public static QuantilesApp start(StreamsSettings settings, MeterRegistry registry) {
        QuantilesApp app = new QuantilesApp(settings, registry, false);
        try {
            app.requireDeadLetterTopic();
            app.streams.start();
            return app;
        } catch (RuntimeException e) {
            app.closeAfterFailedStart(e);
            throw e;
        }
    }

    /**
     * Waits until Kafka Streams runs (joined the group, restored its state).
     *
     * @return true when running, false if the timeout passed first
     * @throws IllegalStateException if the app stopped or failed instead
     */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stateChanged) {
            while (true) {
                State state = streams.state();
                if (state == State.RUNNING) {
                    return true;
                }
                if (STOPPED.contains(state)) {
                    throw new IllegalStateException("quantiles app " + settings.applicationId() + " is " + state
                            + " instead of running (see its log)");
                }
                long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (leftMillis <= 0) {
                    return false;
                }
                stateChanged.wait(Math.min(leftMillis, 100)); // also re-checks state changed before we waited
            }
        }
    }

    /** The current band of each experiment and metric. */
    public QuantileBands bands() {
        return bands;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public State state() {
        return streams.state();
    }

    /** Healthy while Kafka Streams runs or rebalances. */
    public MetricsServer.Health health() {
        State state = streams.state();
        String detail = "quantiles app " + settings.applicationId() + " " + state;
        return state == State.RUNNING || state == State.REBALANCING ? MetricsServer.Health.up(detail) : MetricsServer.Health.down(detail);
    }

    /** The port of the metrics server, or -1 when the caller serves the registry. */
    public int metricsPort() {
        return server == null ? -1 : server.port();
    }

    public StreamsSettings settings() {
        return settings;
    }

    /**
     * Stops processing (waiting at most {@link #CLOSE_TIMEOUT} for a last commit) and leaves the group,
     * then stops the meters and the server.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Leave the group so that its partitions move at once (to a restarted or another instance), not
        // after the session timeout (45 s) when the group notices this member is gone.
        if (!streams.close(CloseOptions.timeout(CLOSE_TIMEOUT).withGroupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP))) {
            log.warn("quantiles app {} did not stop within {}; closing anyway", settings.applicationId(), CLOSE_TIMEOUT);
        }
        streamsMetrics.close();
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", resource, e.toString());
            }
        }
        if (server != null) {
            server.close();
        }
        if (ownsRegistry) {
            registry.close();
        }
    }

    private void closeAfterFailedStart(RuntimeException failure) {
        try {
            close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * A dead letter sent to a missing topic fails the transaction, which stops the app: the very thing
     * the dead-letter topic is for. So refuse to start without it (brokers rarely auto-create topics).
     * If the check itself cannot be made (no Describe permission, broker slow), say so and go on.
     */
    private void requireDeadLetterTopic() {
        String topic = settings.deadLetterTopic();
        if (topic == null) {
            return;
        }
        Properties config = new Properties();
        config.putAll(settings.clientProperties());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TOPIC_CHECK_TIMEOUT.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TOPIC_CHECK_TIMEOUT.toMillis());
        try (Admin admin = Admin.create(config)) {
            admin.describeTopics(List.of(topic)).allTopicNames().get(TOPIC_CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException("dead-letter topic " + topic + " does not exist on " + settings.bootstrapServers()
                        + ": create it (Topics.all() lists every topic) or set deadLetterTopic to null");
            }
            log.warn("cannot check that dead-letter topic {} exists ({}); starting anyway", topic, e.getCause().toString());
        } catch (TimeoutException e) {
            log.warn("cannot check that dead-letter topic {} exists (no answer within {}); starting anyway", topic, TOPIC_CHECK_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking dead-letter topic " + topic, e);
        }
    }

    private void bindJvmMetrics() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        resources.add(gc);
    }
}
