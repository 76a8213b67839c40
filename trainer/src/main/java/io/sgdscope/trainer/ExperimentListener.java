package io.sgdscope.trainer;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;

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

    default void runFinished(RunFinished record) {}

    /** A listener that ignores everything. */
    static ExperimentListener none() {
        return new ExperimentListener() {};
    }
}
