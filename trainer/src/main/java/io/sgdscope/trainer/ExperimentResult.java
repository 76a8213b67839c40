package io.sgdscope.trainer;

import io.sgdscope.schemas.RunStatus;
import java.util.List;

/**
 * The outcome of {@link Experiment#run()}.
 *
 * @param settings    what ran
 * @param runs        the runs that started, by run index (fewer than settings.runs() after a cancel)
 * @param wallSeconds wall time of the whole experiment
 */
public record ExperimentResult(TrainerSettings settings, List<RunResult> runs, double wallSeconds) {

    public ExperimentResult {
        runs = List.copyOf(runs);
    }

    /** How many runs ended with this status. */
    public long count(RunStatus status) {
        return runs.stream().filter(r -> r.status() == status).count();
    }

    /** Runs that never started because the experiment was cancelled first. */
    public int notStarted() {
        return settings.runs() - runs.size();
    }

    /** Iteration records published over all runs. */
    public long iterations() {
        return runs.stream().mapToLong(RunResult::iterations).sum();
    }

    /** Iterations per second of wall time, over all runs. */
    public double iterationsPerSecond() {
        return wallSeconds > 0 ? iterations() / wallSeconds : 0;
    }
}
