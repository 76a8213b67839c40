package io.sgdscope.trainer.telemetry;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;

/**
 * Where a trainer's telemetry goes: Kafka ({@link KafkaTelemetryPublisher}) or, in tests and
 * benchmarks, memory ({@link InMemoryTelemetrySink}) or nowhere ({@link #discarding()}).
 *
 * <p>Implementations must be thread-safe: the runs of an experiment publish from several worker
 * threads at once. Per run the calls come in order from one thread: runStarted, iteration for
 * t = 0, 1, ... (each followed by spectrum for the iterations that have one), runFinished.
 */
public interface TelemetrySink {

    /** A run begins. May block briefly; throws {@link TelemetryException} if the record cannot be handed over at all. */
    void runStarted(RunStarted record);

    /** The record of one iteration. Must not block training for long: drop (and count) rather than wait. */
    void iteration(IterationMetrics record);

    /**
     * The curvature snapshot of one iteration (Sec. 4). Like {@link #iteration}: must not block training
     * for long; drop and count rather than wait. The default ignores it.
     */
    default void spectrum(SpectrumSnapshot record) {}

    /** A run ended. May block briefly; throws {@link TelemetryException} if the record cannot be handed over at all. */
    void runFinished(RunFinished record);

    /** Iteration and spectrum records of this run dropped so far; goes into {@code RunFinished.droppedRecords}. */
    default long droppedRecords(String runId) {
        return 0;
    }

    /**
     * A marker for the records of this run handed over so far: done once they are all delivered (or failed
     * for good). Checkpoints wait for it, so that a resumed run never skips an iteration whose record was
     * lost in a crash. The default: delivered at once (sinks that keep records in memory).
     */
    default Delivery delivery(String runId) {
        return Delivery.DONE;
    }

    /**
     * The delivery of the run's RunFinished handed over last: done once it is acknowledged or failed for good, and
     * then {@link Delivery#failed()} tells which. With checkpoints on, a run waits for it: a RunFinished that failed
     * (or was not acknowledged in time) is sent again by {@code --resume}. The default: delivered at once.
     */
    default Delivery finishedDelivery(String runId) {
        return Delivery.DONE;
    }

    /** A sink that keeps nothing (benchmarks). */
    static TelemetrySink discarding() {
        return new TelemetrySink() {
            @Override
            public void runStarted(RunStarted record) {}

            @Override
            public void iteration(IterationMetrics record) {}

            @Override
            public void spectrum(SpectrumSnapshot record) {}

            @Override
            public void runFinished(RunFinished record) {}
        };
    }
}
