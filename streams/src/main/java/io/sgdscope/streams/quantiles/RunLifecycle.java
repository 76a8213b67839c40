package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import java.util.Objects;

/**
 * A change in a run's life that the experiment's frontier needs to know: it became active (its first
 * iteration was counted, or it sent again after it had stalled), it stalled (nothing from it for the
 * stall timeout, no RunFinished), or it finished (RunFinished arrived).
 *
 * @param status how it finished; null for {@link Kind#ACTIVE}
 * @param lastIteration the highest iteration of the run counted in the distributions; -1 if none (for
 *                      {@link Kind#ACTIVE}: the iteration that made it active)
 */
record RunLifecycle(String experimentId, String runId, Kind kind, RunStatus status, int lastIteration) {

    /** Stored by ordinal: new kinds go last. */
    enum Kind { ACTIVE, FINISHED, STALLED }

    RunLifecycle {
        Objects.requireNonNull(experimentId, "experimentId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.FINISHED) != (status != null)) {
            throw new IllegalArgumentException("a finished run has a status, an active one none: " + kind + " " + status);
        }
    }

    static RunLifecycle active(String experimentId, String runId, int iteration) {
        return new RunLifecycle(experimentId, runId, Kind.ACTIVE, null, iteration);
    }

    static RunLifecycle stalled(String experimentId, String runId, int lastIteration) {
        return new RunLifecycle(experimentId, runId, Kind.STALLED, null, lastIteration);
    }

    static RunLifecycle finished(String experimentId, String runId, RunStatus status, int lastIteration) {
        return new RunLifecycle(experimentId, runId, Kind.FINISHED, status, lastIteration);
    }
}
