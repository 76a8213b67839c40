package io.sgdscope.trainer;

import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.OptimizerState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Checkpoints and {@code --resume} for one {@link EnsembleBlock}, with the per-run engine's guarantees
 * ({@code TrainingRun} in the tests, {@link io.sgdscope.trainer.checkpoint.CheckpointStore}): each run's state goes into its own
 * {@link RunCheckpoint} file, in the per-run engine's format ({@link EnsembleCheckpoints}), and a resumed run
 * continues from it exactly as if never stopped: theta, the position in its minibatch stream, g_{t-1} and
 * ||g_{t-1}||, L, the probe's warm starts and Lanczos count ({@link EnsembleCurvature#probeState}), and the
 * optimizer's state ({@link EnsembleOptimizer#state}); it publishes its first RunStarted again, then its frames
 * under the key that RunStarted names.
 *
 * <p><b>Runs of one block at different iterations.</b> The runs of a block are checkpointed together, so they
 * normally continue from one iteration. A crash while their files were being written can leave some at the newer
 * checkpoint and some at the older one: the block then starts at the earliest, and a run whose checkpoint is later
 * <em>waits</em> (trains nothing, publishes nothing, its theta and optimizer state untouched while its slice of the
 * batched arrays idles) until the block reaches its iteration, and joins there. Not thread-safe: one per block.
 */
final class EnsembleResume {

    private final TrainerSettings settings;
    private final EnsembleBlocks.Spec spec;
    private final String[] runIds;
    private final CheckpointStore store;
    private final EnsembleCheckpoints checkpoints;
    private final int runs;
    private final RunCheckpoint[] from;
    private final RunStarted[] started;
    private final int[] start;
    private final boolean[] waiting;
    private final boolean[] suspended;

    EnsembleResume(TrainerSettings settings, EnsembleBlocks.Spec spec, String[] runIds, CheckpointStore store,
                   TelemetrySink sink) {
        this.settings = settings;
        this.spec = spec;
        this.runIds = runIds;
        this.store = store;
        this.checkpoints = new EnsembleCheckpoints(settings, store, sink);
        this.runs = runIds.length;
        from = new RunCheckpoint[runs];
        started = new RunStarted[runs];
        start = new int[runs];
        waiting = new boolean[runs];
        suspended = new boolean[runs];
    }

    /**
     * Puts run r where its checkpoint left off, if it is resumed (theta, its sampler's position, the records it
     * published) and returns the RunStarted it first published; null for a fresh run (see {@link #started}).
     */
    RunStarted start(int r, BatchedMlp model, MinibatchSampler sampler, int[] published) {
        if (!spec.resumed()[r]) {
            return null;
        }
        RunCheckpoint checkpoint = store.read(runIds[r]).orElseThrow(() -> new CheckpointException("the checkpoint of "
                + runIds[r] + " disappeared from " + store.folder()));
        from[r] = checkpoint;
        model.setParameters(r, checkpoint.theta());
        sampler.skip(checkpoint.batchesDrawn());
        published[r] = checkpoint.published();
        start[r] = checkpoint.nextIteration();
        waiting[r] = true;                                            // until the block reaches its iteration
        started[r] = checkpoint.runStarted();
        return checkpoint.runStarted();
    }

    /** The RunStarted run r published. */
    void started(int r, RunStarted record) {
        started[r] = record;
    }

    /** The probe's and the optimizer's state of the resumed runs, with their latest L. */
    void restore(EnsembleCurvature curvature, EnsembleOptimizer optimizer) {
        SpectrumProbe.State[] probes = new SpectrumProbe.State[runs];
        OptimizerState[] states = new OptimizerState[runs];
        double[] latestL = new double[runs];
        for (int r = 0; r < runs; r++) {
            latestL[r] = from[r] != null ? from[r].latestL() : Double.NaN;
            probes[r] = from[r] != null ? from[r].probe() : null;
            states[r] = from[r] != null ? from[r].optimizer() : null;
        }
        curvature.restore(probes);
        optimizer.restore(states, latestL);
    }

    /** The iteration the block starts at: the earliest of its runs'. */
    int firstIteration() {
        int first = Integer.MAX_VALUE;
        for (int r = 0; r < runs; r++) {
            first = Math.min(first, start[r]);
        }
        return first;
    }

    /**
     * At the start of iteration t: the resumed runs whose iteration it is join, with their g_{t-1} (kept by the model
     * as the previous gradient of the next pass) and ||g_{t-1}||.
     *
     * @return whether any run joined
     */
    boolean join(int t, BatchedMlp model, double[] previousNorm) {
        boolean any = false;
        for (int r = 0; r < runs; r++) {
            if (waiting[r] && start[r] == t) {
                waiting[r] = false;
                any = true;
                if (from[r].previousGradient().length > 0) {
                    model.setGradient(r, from[r].previousGradient());
                }
                previousNorm[r] = from[r].previousNorm();
            }
        }
        return any;
    }

    /** Whether run r trains now (it is not waiting for its iteration). */
    boolean isLive(int r) {
        return !waiting[r];
    }

    boolean isSuspended(int r) {
        return suspended[r];
    }

    /** The optimizer's step, with the theta of waiting runs kept as it is. */
    void apply(EnsembleOptimizer optimizer, BatchedMlp model) {
        double[][] kept = new double[runs][];
        for (int r = 0; r < runs; r++) {
            kept[r] = waiting[r] ? model.parametersAsDoubles(r) : null;
        }
        optimizer.apply();
        for (int r = 0; r < runs; r++) {
            if (kept[r] != null) {
                model.setParameters(r, kept[r]);
            }
        }
    }

    /** After iteration t (see {@link EnsembleCheckpoints#afterIteration}). */
    void afterIteration(int t, Supplier<List<EnsembleCheckpoints.Capture>> capture) {
        checkpoints.afterIteration(t, capture);
    }

    /**
     * The state before iteration {@code next} of every run that trains (not ended, not waiting), copies. Taken
     * after the update of iteration next - 1, or at the top of iteration next, where the model's gradient is
     * g_{next-1} either way.
     */
    List<EnsembleCheckpoints.Capture> capture(int next, boolean[] finished, BatchedMlp model, MinibatchSampler[] samplers,
                                              EnsembleCurvature curvature, EnsembleOptimizer optimizer,
                                              double[] previousNorm, int[] published, long startNanos) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        List<EnsembleCheckpoints.Capture> captures = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            if (finished[r] || waiting[r]) {
                continue;
            }
            double[] previous = next == 0 ? new double[0] : model.gradientAsDoubles(r);
            RunCheckpoint checkpoint = new RunCheckpoint(started[r], null, next, published[r], 0,
                    earlierSeconds(r) + seconds, samplers[r].batchesDrawn(), model.parametersAsDoubles(r), previous,
                    previousNorm[r], optimizer.latestL(r), curvature.probeState(r),
                    optimizer.state(r, next == 0 ? null : previous));
            captures.add(new EnsembleCheckpoints.Capture(checkpoint, earlierDropped(r)));
        }
        return captures;
    }

    /**
     * A cancel before iteration t: every unfinished run is suspended (no RunFinished); those that train save their
     * state at t once their records are delivered, the waiting ones keep the checkpoint they have.
     */
    void suspend(int t, boolean[] finished, BatchedMlp model, MinibatchSampler[] samplers, EnsembleCurvature curvature,
                 EnsembleOptimizer optimizer, double[] previousNorm, int[] published, long startNanos) {
        for (EnsembleCheckpoints.Capture capture : capture(t, finished, model, samplers, curvature, optimizer,
                previousNorm, published, startNanos)) {
            checkpoints.suspend(capture);
        }
        for (int r = 0; r < runs; r++) {
            suspended[r] = !finished[r];
        }
    }

    /** Training time of run r in earlier processes. */
    double earlierSeconds(int r) {
        return from[r] != null ? from[r].elapsedSeconds() : 0;
    }

    /** Records of run r dropped in earlier processes. */
    long earlierDropped(int r) {
        return from[r] != null ? from[r].droppedRecords() : 0;
    }

    /** Before run r's RunFinished goes to the sink. */
    void finishing(RunFinished record) {
        checkpoints.finishing(record);
    }

    /** After run r's RunFinished went to the sink: its finished marker. */
    void finished(int r, int published, RunStatus status, long dropped, double seconds) {
        checkpoints.finished(started[r], published, status, dropped, seconds);
    }

    /** Run r's result (over every process that trained it). */
    RunResult result(int r, int runIndex, long seed, RunStatus status, int published, Double finalLoss, String message,
                     double blockSeconds, TelemetrySink sink) {
        double seconds = earlierSeconds(r) + blockSeconds;
        long dropped = earlierDropped(r) + sink.droppedRecords(runIds[r]);
        int resumedAt = from[r] != null ? start[r] : 0;
        if (suspended[r]) {
            return new RunResult(runIds[r], runIndex, seed, status, published, null, dropped,
                    message + "; suspended, its state saved: --resume continues it", seconds, resumedAt, true);
        }
        return new RunResult(runIds[r], runIndex, seed, status, published, finalLoss, dropped, message, seconds, resumedAt,
                false);
    }
}
