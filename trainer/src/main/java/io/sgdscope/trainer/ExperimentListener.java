package io.sgdscope.trainer;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.frames.Frame;

/**
 * Progress of an {@link Experiment}, e.g. for a terminal display. Called on the worker threads,
 * concurrently for different runs, right after the record went to the telemetry sink: keep it
 * cheap and thread-safe. An exception thrown from runStarted or iterationDone ends that run as
 * FAILED; one thrown from runFinished stops the experiment ({@link Experiment#run()} rethrows it).
 */
public interface ExperimentListener {

    default void runStarted(RunStarted record) {}

    /** Iteration t of a run is done; {@code record.getLoss()} is f(theta_t). */
    default void iterationDone(IterationMetrics record) {}

    /**
     * Iteration t of several runs trained together is done (the ensemble engine: one frame per block and
     * iteration, covering the runs still going). The default calls {@link #iterationDone} with each run's row, in
     * order; a listener on a large ensemble should count from the frame's columns instead (a row is an object
     * per run and iteration).
     */
    default void iterationsDone(Frame frame) {
        for (int i = 0; i < frame.size(); i++) {
            iterationDone(frame.row(i));
        }
    }

    default void runFinished(RunFinished record) {}

    /** A listener that ignores everything. */
    static ExperimentListener none() {
        return new ExperimentListener() {
            @Override
            public void iterationsDone(Frame frame) {}
        };
    }
}
