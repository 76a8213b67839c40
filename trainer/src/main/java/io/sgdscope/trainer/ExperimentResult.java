package io.sgdscope.trainer;

import io.sgdscope.schemas.RunStatus;
import java.util.List;

/**
 * The outcome of {@link Experiment#run()}.
 *
 * @param settings    what ran
 * @param runs        the runs trained in this process, by run index (fewer than settings.shardRuns() after a
 *                    cancel, or when resuming)
 * @param skipped     runs not trained because they had finished in an earlier process (resuming)
 * @param wallSeconds wall time of the whole experiment
 */
public record ExperimentResult(TrainerSettings settings, List<RunResult> runs, int skipped, double wallSeconds) {

    public ExperimentResult {
        runs = List.copyOf(runs);
    }

    /** How many runs ended with this status. */
    public long count(RunStatus status) {
        return runs.stream().filter(r -> r.status() == status).count();
    }

    /** Runs of this process (its shard's) that never started because the experiment was cancelled first. */
    public int notStarted() {
        return settings.shardRuns() - runs.size() - skipped;
    }

    /** Runs stopped by a cancel and saved to be resumed (they published no RunFinished). */
    public long suspended() {
        return runs.stream().filter(RunResult::suspended).count();
    }

    /** Runs that continued from a checkpoint. */
    public long resumed() {
        return runs.stream().filter(r -> r.resumedFrom() > 0).count();
    }

    /** Iterations trained in this process over all runs (a resumed run's earlier iterations not counted). */
    public long iterations() {
        return runs.stream().mapToLong(r -> r.iterations() - r.resumedFrom()).sum();
    }

    /** Iterations per second of wall time, over all runs. */
    public double iterationsPerSecond() {
        return wallSeconds > 0 ? iterations() / wallSeconds : 0;
    }
}
