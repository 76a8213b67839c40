package io.sgdscope.trainer;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How an experiment's runs are trained ({@code RunStarted.settings["engine"]}). */
public enum Engine {
    /**
     * Retired (issue 15): each run on its own network, a worker thread per run. Its code lives on in the trainer's
     * tests as the reference the ensemble engine is checked against ({@code PerRunEngine}, {@code TrainingRun}), and
     * names itself here in its RunStarted records; an {@link Experiment} refuses it.
     */
    PER_RUN("per-run"),
    /**
     * Blocks of runs trained together with batched (rank-3) matrix products ({@link EnsembleBlock}): every
     * optimizer, each run with its own state held column-wise ({@link EnsembleOptimizer}), loss, accuracy, ||g_t||
     * and cos(g_t, g_{t-1}) every iteration, the test set, and DIVERGED runs leaving the others alone; for the
     * paper's ensembles of thousands of runs (Sec. 5.1). The moments of Eq. 4-7 and L every {@code momentsEvery}
     * iterations, probed for a whole block at once ({@link EnsembleCurvature}); the spectrum snapshots, snapshot
     * folders and RunFinished's Corollary 4 terms by the per-run engine's code, run by run ({@link EnsembleSpectra});
     * checkpoints and resume in the per-run engine's format ({@link EnsembleResume}). The same values as the per-run
     * engine for the same seeds, a block of one run included. The one engine of {@link Experiment} and the default.
     */
    ENSEMBLE("ensemble");

    private final String id;

    Engine(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The engine named {@code id} ("per-run" or "ensemble"). */
    public static Engine fromId(String id) {
        for (Engine engine : values()) {
            if (engine.id.equals(id)) {
                return engine;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + id + "': use one of "
                + Arrays.stream(values()).map(Engine::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
