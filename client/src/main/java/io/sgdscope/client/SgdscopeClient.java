package io.sgdscope.client;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The entry point of a JVM training loop that publishes its SGD telemetry to sgdscope: one per process, shared by
 * its runs. {@link #connect} publishes to a Kafka cluster through one {@link KafkaTelemetryPublisher} (idempotent,
 * acks=all, a bounded buffer, dropped records counted), {@link #over} through any {@link TelemetrySink}. Runs are
 * published one by one ({@link #startRun}) or in lockstep as frames ({@link #startRuns}). The topics must exist
 * ({@code sgdscope train} or an administrator creates them). Thread-safe; each run's publisher is for one thread.
 */
public final class SgdscopeClient implements AutoCloseable {

    private final TelemetrySink sink;
    private final KafkaTelemetryPublisher owned;

    private SgdscopeClient(TelemetrySink sink, KafkaTelemetryPublisher owned) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.owned = owned;
    }

    /** A client with its own Kafka producer on the given cluster; {@link #close} flushes and closes it. */
    public static SgdscopeClient connect(KafkaClientSettings settings) {
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(settings);
        return new SgdscopeClient(publisher, publisher);
    }

    /** A client publishing into {@code sink} (kept open by {@link #close}: its owner closes it). */
    public static SgdscopeClient over(TelemetrySink sink) {
        return new SgdscopeClient(sink, null);
    }

    /** Publishes the run's RunStarted and returns its publisher (waits, at most 30 s, for the topics' metadata once). */
    public RunPublisher startRun(RunDescription run) {
        return new RunPublisher(sink, run);
    }

    /** Publishes the RunStarted of each run of a group that advances together, in frames of at most 1,000 runs. */
    public RunGroupPublisher startRuns(List<RunDescription> runs) {
        return new RunGroupPublisher(sink, runs);
    }

    /** Where the records go. */
    public TelemetrySink sink() {
        return sink;
    }

    /** Iteration and spectrum records dropped so far (not taken by the producer in time; a frame once per run). */
    public long droppedRecords() {
        return owned == null ? 0 : owned.droppedRecords() + owned.droppedSpectra();
    }

    /** Records accepted by the producer that then failed to be delivered, so far. */
    public long failedRecords() {
        return owned == null ? 0 : owned.failedRecords();
    }

    /** Blocks until every record handed over so far is delivered or failed. */
    public void flush() {
        if (owned != null) {
            owned.flush();
        }
    }

    /** Flushes and closes the client's own producer (at most 30 s); a sink given to {@link #over} stays open. */
    @Override
    public void close() {
        close(KafkaTelemetryPublisher.DEFAULT_CLOSE_TIMEOUT);
    }

    /** As {@link #close()}, waiting at most {@code timeout} for the delivery of what is buffered (the rest is lost). */
    public void close(Duration timeout) {
        if (owned != null) {
            owned.close(timeout);
        }
    }
}
