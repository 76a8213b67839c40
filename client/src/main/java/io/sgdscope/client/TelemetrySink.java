package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.frames.Frame;

/**
 * Where a trainer's telemetry goes: Kafka ({@link KafkaTelemetryPublisher}) or, in tests and
 * benchmarks, memory ({@link InMemoryTelemetrySink}) or nowhere ({@link #discarding()}).
 *
 * <p>Implementations must be thread-safe: the runs of an experiment publish from several worker
 * threads at once. Per run the calls come in order from one thread: runStarted, iteration for
 * t = 0, 1, ... (each followed by spectrum for the iterations that have one), runFinished. A run of the
 * ensemble engine has its iterations in {@link #frame}s instead (one per block of runs and iteration), under the
 * frame key its RunStarted names.
 */
public interface TelemetrySink {

    /** A run begins. May block briefly; throws {@link TelemetryException} if the record cannot be handed over at all. */
    void runStarted(RunStarted record);

    /** The record of one iteration. Must not block training for long: drop (and count) rather than wait. */
    void iteration(IterationMetrics record);

    /**
     * Iteration t of several runs at once (the ensemble engine): the frame's runs are those of one block still
     * going, in order. Like {@link #iteration}: must not block training for long; drop and count rather than wait.
     * A frame stands for one record per run it covers: a lost frame loses that many.
     *
     * <p>The default hands each run's row to {@link #iteration} (correct, but an object per run: sinks on the hot
     * path take the frame as it is).
     *
     * @param frameKey the key every frame of these runs is published under: {@code RunStarted.frameKey} of each of
     *                 them, fixed for the block's life (the first run of the block, even after that run ended, so that
     *                 all of a block's frames share one partition)
     */
    default void frame(String frameKey, Frame frame) {
        for (int i = 0; i < frame.size(); i++) {
            iteration(frame.row(i));
        }
    }

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
            public void frame(String frameKey, Frame frame) {}

            @Override
            public void spectrum(SpectrumSnapshot record) {}

            @Override
            public void runFinished(RunFinished record) {}
        };
    }
}
