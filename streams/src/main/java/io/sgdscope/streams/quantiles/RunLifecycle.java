package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import java.util.Objects;

/**
 * A change in a run's life that the experiment's frontier needs to know: it started (the RunStarted of a run of a
 * sharded experiment arrived, naming its shard), it became active (its first iteration was counted, or it sent
 * again after it had stalled), it stalled (nothing from it for the stall timeout, no RunFinished), or it finished
 * (RunFinished arrived).
 *
 * @param status how it finished; null unless {@link Kind#FINISHED}
 * @param lastIteration the highest iteration of the run counted in the distributions; -1 if none (for
 *                      {@link Kind#ACTIVE}: the iteration that made it active)
 * @param shardIndex the 1-based shard (trainer process, {@code sgdscope train --shard i/N}) that trains the run, as
 *                   its RunStarted said; 0 when not known (not sharded, or its start has not arrived). The frontier
 *                   store keeps it with each run, whatever order the run's events arrive in.
 * @param shardCount N, the shards of the run's experiment, as its RunStarted said; 0 when not known. Both are known
 *                   (1 ≤ i ≤ N) or neither is
 */
record RunLifecycle(String experimentId, String runId, Kind kind, RunStatus status, int lastIteration, int shardIndex,
                    int shardCount) {

    /** Stored by ordinal: new kinds go last. */
    enum Kind { ACTIVE, FINISHED, STALLED, STARTED }

    RunLifecycle {
        Objects.requireNonNull(experimentId, "experimentId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.FINISHED) != (status != null)) {
            throw new IllegalArgumentException("a finished run has a status, an active one none: " + kind + " " + status);
        }
        if (!(shardIndex == 0 && shardCount == 0 || shardIndex >= 1 && shardIndex <= shardCount)) {
            throw new IllegalArgumentException("shard must be i/N with 1 <= i <= N, or 0/0 when not known, got "
                    + shardIndex + "/" + shardCount);
        }
    }

    RunLifecycle(String experimentId, String runId, Kind kind, RunStatus status, int lastIteration) {
        this(experimentId, runId, kind, status, lastIteration, 0, 0);
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

    /** The run's RunStarted arrived: it is trained by shard {@code shardIndex} of {@code shardCount}. */
    static RunLifecycle started(String experimentId, String runId, int shardIndex, int shardCount) {
        return new RunLifecycle(experimentId, runId, Kind.STARTED, null, -1, shardIndex, shardCount);
    }

    /** Whether the run's shard is known. */
    boolean sharded() {
        return shardCount > 0;
    }

    /** The same event, naming the shard of {@code other} (a run's earlier entry) when this one does not name one. */
    RunLifecycle withShardOf(RunLifecycle other) {
        return sharded() || other == null || !other.sharded() ? this
                : new RunLifecycle(experimentId, runId, kind, status, lastIteration, other.shardIndex, other.shardCount);
    }
}
