package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import java.util.Objects;

/**
 * A change in a run's life that the experiment's frontier needs to know: it started (its RunStarted arrived,
 * saying how many runs the whole experiment plans), it became active (its first iteration was counted, or it
 * sent again after it had stalled), it stalled (nothing from it for the stall timeout, no RunFinished), or it
 * finished (RunFinished arrived).
 *
 * @param status how it finished; null unless {@link Kind#FINISHED}
 * @param lastIteration the highest iteration of the run counted in the distributions; -1 if none (for
 *                      {@link Kind#ACTIVE}: the iteration that made it active)
 * @param plannedRuns the runs of the whole experiment over all its trainer processes (shards), as the run's
 *                    RunStarted said; 0 when not known. The frontier store keeps the largest it has seen with each
 *                    run, whatever order the run's events arrive in.
 */
record RunLifecycle(String experimentId, String runId, Kind kind, RunStatus status, int lastIteration, int plannedRuns) {

    /** Stored by ordinal: new kinds go last. */
    enum Kind { ACTIVE, FINISHED, STALLED, STARTED }

    RunLifecycle {
        Objects.requireNonNull(experimentId, "experimentId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.FINISHED) != (status != null)) {
            throw new IllegalArgumentException("a finished run has a status, an active one none: " + kind + " " + status);
        }
        if (plannedRuns < 0) {
            throw new IllegalArgumentException("planned runs must be >= 0 (0 = unknown), got " + plannedRuns);
        }
    }

    RunLifecycle(String experimentId, String runId, Kind kind, RunStatus status, int lastIteration) {
        this(experimentId, runId, kind, status, lastIteration, 0);
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

    /** The run's RunStarted arrived; its experiment plans {@code plannedRuns} runs in all (0 = not said). */
    static RunLifecycle started(String experimentId, String runId, int plannedRuns) {
        return new RunLifecycle(experimentId, runId, Kind.STARTED, null, -1, plannedRuns);
    }

    /** The same event, remembering the larger of its planned runs and {@code plannedRuns}. */
    RunLifecycle withPlannedRuns(int plannedRuns) {
        return plannedRuns <= this.plannedRuns ? this
                : new RunLifecycle(experimentId, runId, kind, status, lastIteration, plannedRuns);
    }
}
