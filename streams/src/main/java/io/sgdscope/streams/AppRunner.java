package io.sgdscope.streams;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.metrics.MetricsServer;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KafkaStreams.State;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka Streams client of an app: its life (start, wait until running, close leaving the group),
 * its health, and its meters (Kafka Streams' own through {@link KafkaStreamsMetrics},
 * {@code sgdscope_app_running}, the unreadable- and failed-record counters).
 *
 * <p>Bad records are skipped and dead-lettered: unreadable ones ({@link UnreadableRecordHandler}) and those
 * that cannot be processed ({@link FailedRecordHandler}). Any other error stops the client (state ERROR) rather
 * than retrying forever: {@link #failure()} then names the app and why, health is DOWN, and a process running
 * it should exit.
 */
final class AppRunner implements AutoCloseable {

    /** How long {@link #close()} waits for Kafka Streams to commit and leave. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(AppRunner.class);
    private static final Set<State> STOPPED = Set.of(State.PENDING_SHUTDOWN, State.NOT_RUNNING, State.PENDING_ERROR, State.ERROR);

    private final String name;
    private final String applicationId;
    private final MeterRegistry registry;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics streamsMetrics;
    private final Gauge running;
    private final Object stateChanged = new Object();
    /** What stopped a stream thread, if anything did. */
    private volatile Throwable cause;
    private boolean closed;

    /**
     * @param name what the app is called in messages: "quantiles app"
     * @param inputs the topics it reads, whose unreadable-record counters show 0 from the start
     */
    AppRunner(String name, StreamsSettings settings, String applicationId, Topology topology, MeterRegistry registry,
              String... inputs) {
        this.name = name;
        this.applicationId = applicationId;
        this.registry = registry;
        for (String topic : inputs) {
            UnreadableRecordHandler.counter(registry, applicationId, topic);
            for (String reason : FailedRecordHandler.REASONS) {
                FailedRecordHandler.counter(registry, applicationId, topic, reason);
            }
        }
        Properties properties = settings.toStreamsProperties(applicationId);
        properties.put(UnreadableRecordHandler.METER_REGISTRY_CONFIG, registry);
        streams = new KafkaStreams(topology, properties);
        streams.setStateListener((newState, oldState) -> {
            log.info("{} {}: {} -> {}", name, applicationId, oldState, newState);
            synchronized (stateChanged) {
                stateChanged.notifyAll();
            }
        });
        streams.setUncaughtExceptionHandler(exception -> {
            cause = exception;
            log.error("{} {} stops: {}", name, applicationId, exception.toString(), exception);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        running = Gauge.builder(MeterNames.APP_RUNNING, this, runner -> runner.isUp() ? 1 : 0)
                .tag(MeterNames.TAG_APPLICATION, applicationId)
                .description("1 while the app's Kafka Streams client runs (RUNNING or REBALANCING), else 0")
                .register(registry);
    }

    /** The inputs of both apps. */
    static String[] inputTopics(boolean spectra) {
        return spectra ? new String[] {Topics.ITERATIONS, Topics.RUNS, Topics.SPECTRA} : new String[] {Topics.ITERATIONS, Topics.RUNS};
    }

    void start() {
        streams.start();
    }

    /**
     * Waits until Kafka Streams runs (joined the group, restored its state).
     *
     * @return true when running, false if the timeout passed first
     * @throws IllegalStateException if the app stopped or failed instead
     */
    boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stateChanged) {
            while (true) {
                State state = streams.state();
                if (state == State.RUNNING) {
                    return true;
                }
                if (STOPPED.contains(state)) {
                    throw new IllegalStateException(name + " " + applicationId + " is " + state + " instead of running (see its log)");
                }
                long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (leftMillis <= 0) {
                    return false;
                }
                stateChanged.wait(Math.min(leftMillis, 100)); // also re-checks a state changed before we waited
            }
        }
    }

    State state() {
        return streams.state();
    }

    /** The Kafka Streams client, for tests that act on it (e.g. remove its stream thread). */
    KafkaStreams kafkaStreams() {
        return streams;
    }

    String applicationId() {
        return applicationId;
    }

    private boolean isUp() {
        State state = streams.state();
        return state == State.RUNNING || state == State.REBALANCING;
    }

    /**
     * Healthy (alive) while Kafka Streams runs or rebalances with at least one live stream thread, or is still
     * starting.
     */
    MetricsServer.Health health() {
        String failure = failure();
        return failure == null ? MetricsServer.Health.up(name + " " + applicationId + " " + streams.state())
                : MetricsServer.Health.down(failure);
    }

    /**
     * Why the app can no longer process, one line naming it, or null while it can: it stopped or failed
     * (PENDING_ERROR, ERROR, PENDING_SHUTDOWN, NOT_RUNNING), or it runs without a live stream thread.
     */
    String failure() {
        State state = streams.state();
        if (state == State.CREATED) {
            return null;
        }
        if (STOPPED.contains(state)) {
            return name + " " + applicationId + " is " + state + because();
        }
        // Metadata of threads that are not DEAD; a thread shutting down is not alive either.
        boolean liveThread = streams.metadataForLocalThreads().stream()
                .anyMatch(thread -> !thread.threadState().equals("PENDING_SHUTDOWN") && !thread.threadState().equals("DEAD"));
        return liveThread ? null : name + " " + applicationId + " is " + state + " with no live stream thread" + because();
    }

    private String because() {
        Throwable why = cause;
        if (why == null) {
            return "";
        }
        // Kafka Streams wraps the processor's exception in a StreamsException: name the innermost.
        while (why.getCause() != null && why.getCause() != why) {
            why = why.getCause();
        }
        String text = why.toString().lines().findFirst().orElse("");
        return ": " + (text.length() > 300 ? text.substring(0, 300) + "..." : text);
    }

    /** Ready (serving current numbers) only while Kafka Streams runs: not while it starts, restores or rebalances. */
    MetricsServer.Health readiness() {
        State state = streams.state();
        String detail = name + " " + applicationId + " " + state;
        return state == State.RUNNING ? MetricsServer.Health.up(detail) : MetricsServer.Health.down(detail);
    }

    /** Stops processing (waiting at most {@link #CLOSE_TIMEOUT} for a last commit) and leaves the group. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Leave the group so that its partitions move at once (to a restarted or another instance), not
        // after the session timeout (45 s) when the group notices this member is gone.
        if (!streams.close(CloseOptions.timeout(CLOSE_TIMEOUT).withGroupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP))) {
            log.warn("{} {} did not stop within {}; closing anyway", name, applicationId, CLOSE_TIMEOUT);
        }
        streamsMetrics.close();
        registry.remove(running);
    }
}
