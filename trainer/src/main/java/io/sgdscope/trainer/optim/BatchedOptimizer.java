package io.sgdscope.trainer.optim;

import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The update rule of {@link OptimizerSettings} for a block of runs trained together (the ensemble engine), with
 * each run's state held column-wise: one row per run in [R, q] arrays in the block's data type (its
 * {@link RowLayout}), scalars in per-run arrays. Each implementation applies the per-run class's own arithmetic
 * (the static row methods of {@link Adam} and {@link DiagonalPreconditioned}, {@link AdaptiveStep#advance} per
 * run), so a run steps as it does on the per-run engine, up to the rounding of the batched reductions.
 *
 * <p>Runs that do not step at an iteration (ended, diverged, or waiting to join the block after a resume) keep
 * their state unchanged. Not thread-safe: one per block.
 */
public abstract class BatchedOptimizer {

    /**
     * What one iteration of a block gives its optimizer.
     *
     * @param gradient  g_t of every run in row form [R, q], computed on demand (vanilla SGD does not need it)
     * @param squares   ||g_t||^2 per run (float64)
     * @param dots      g_t . g_{t-1} per run (float64; meaningless for a run without a previous step)
     * @param stepping  which runs take a step now
     * @param exact     per run, the exact full-batch quantities at theta_t (moments, L; or the latest L), with no
     *                  vectors (those come as rows below)
     * @param mu        mu_t of every run in row form, when computed at t for the diagonal preconditioner, else null
     * @param diagonalM diag(M_t) of every run in row form, with {@code mu}, else null
     */
    public record Step(Supplier<INDArray> gradient, double[] squares, double[] dots, boolean[] stepping,
                       FullBatchStatistics[] exact, INDArray mu, INDArray diagonalM) {}

    /** The block optimizer for these settings, R runs. */
    public static BatchedOptimizer create(OptimizerSettings settings, double learningRate, int batchSize, int runs) {
        return switch (settings.name()) {
            case OptimizerSettings.ADAPTIVE -> new BatchedAdaptiveStep(settings, learningRate, batchSize, runs);
            case OptimizerSettings.DIAGONAL, OptimizerSettings.ADAM -> new BatchedMoments(settings, learningRate,
                    batchSize, runs);
            default -> new BatchedSgd(new Sgd(learningRate), runs);
        };
    }

    /**
     * The step of this iteration: fills {@code stepSizes} (eta_t, or the effective scalar step of a per-coordinate
     * rule, for the runs that step) and returns what to subtract from theta in row form (zero rows for the runs
     * that do not step), or null when every run takes theta - eta g with the constant eta of vanilla SGD (the block
     * does that with one product-free axpy).
     */
    public abstract INDArray update(Step step, double[] stepSizes);

    /**
     * Run r's state in the per-run class's format ({@link Optimizer#state()}), for its checkpoint.
     *
     * @param previousGradient g_{t-1} of the run (theta's layout), or null before its first step
     */
    public abstract OptimizerState state(int run, RowLayout layout, double[] previousGradient);

    /** Continues from per-run states ({@link #state}); a null entry leaves that run at the start. */
    public abstract void restore(OptimizerState[] states, RowLayout layout);

    /** Vanilla SGD: nothing carried between steps. */
    static final class BatchedSgd extends BatchedOptimizer {
        private final Sgd sgd;
        private final int runs;

        BatchedSgd(Sgd sgd, int runs) {
            this.sgd = sgd;
            this.runs = runs;
        }

        @Override
        public INDArray update(Step step, double[] stepSizes) {
            java.util.Arrays.fill(stepSizes, sgd.learningRate());                    // Eq. 8
            return null;
        }

        @Override
        public OptimizerState state(int run, RowLayout layout, double[] previousGradient) {
            return sgd.state();
        }

        @Override
        public void restore(OptimizerState[] states, RowLayout layout) {
            for (OptimizerState state : states) {
                if (state != null) {
                    sgd.restore(state, null);
                }
            }
        }
    }

    /** Theorem 3's adaptive step (Eq. 35): one {@link AdaptiveStep} per run for its scalars, one scaled axpy per block. */
    static final class BatchedAdaptiveStep extends BatchedOptimizer {
        private final OptimizerSettings settings;
        private final double learningRate;
        private final int batchSize;
        private final AdaptiveStep[] steps;

        BatchedAdaptiveStep(OptimizerSettings settings, double learningRate, int batchSize, int runs) {
            this.settings = settings;
            this.learningRate = learningRate;
            this.batchSize = batchSize;
            steps = new AdaptiveStep[runs];
            for (int r = 0; r < runs; r++) {
                steps[r] = fresh();
            }
        }

        private AdaptiveStep fresh() {
            return (AdaptiveStep) settings.create(learningRate, batchSize);
        }

        @Override
        public INDArray update(Step step, double[] stepSizes) {
            INDArray g = step.gradient().get();
            double[] etas = new double[steps.length];
            for (int r = 0; r < steps.length; r++) {
                if (step.stepping()[r]) {
                    Double dot = steps[r].hasStepped() ? step.dots()[r] : null;     // g_{t-1} exists
                    etas[r] = steps[r].advance(step.squares()[r], dot, step.exact()[r]);   // Eq. 35
                    stepSizes[r] = etas[r];
                }
            }
            INDArray column = org.nd4j.linalg.factory.Nd4j.createFromArray(etas).castTo(g.dataType())
                    .reshape(etas.length, 1);
            return g.muliColumnVector(column);                                   // eta_t g_t per run
        }

        @Override
        public OptimizerState state(int run, RowLayout layout, double[] previousGradient) {
            return steps[run].state(steps[run].hasStepped() ? previousGradient : null);
        }

        @Override
        public void restore(OptimizerState[] states, RowLayout layout) {
            for (int r = 0; r < steps.length; r++) {
                if (states[r] != null) {
                    steps[r].restore(states[r], org.nd4j.linalg.api.buffer.DataType.DOUBLE);
                }
            }
        }
    }
}
