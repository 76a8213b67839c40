package io.sgdscope.trainer;

import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.optim.BatchedOptimizer;
import io.sgdscope.trainer.optim.FullBatchStatistics;
import io.sgdscope.trainer.optim.OptimizerState;
import io.sgdscope.trainer.optim.RowLayout;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The update of an {@link EnsembleBlock}'s runs: the experiment's optimizer (vanilla SGD, Eq. 8; Theorem 3's
 * adaptive step, Eq. 35, or diagonal preconditioner, Eq. 36/41; Adam, Eq. 37-39) with every run's state held
 * column-wise ({@link BatchedOptimizer}), given what the per-run engine gives its optimizer ({@code TrainingRun}, in the tests):
 * at a moments iteration the exact ||mu_t||^2, Tr M_t and L of the run (and mu_t, diag(M_t) for the
 * preconditioner, {@link EnsembleDiagonals}), else the latest L the run measured. The step size each run took goes
 * into its IterationMetrics (the frame's stepSize column), as on the per-run engine.
 *
 * <p>Each iteration: {@link #prepare} before the frame is published (it needs the step sizes), {@link #apply}
 * after it. Not thread-safe: one per block.
 */
final class EnsembleOptimizer implements AutoCloseable {

    private final TrainerSettings settings;
    private final BatchedMlp model;
    private final BatchedOptimizer optimizer;
    private final EnsembleDiagonals diagonals;
    private final RowLayout layout;
    private final int runs;
    /** Per run, the latest L it measured (NaN before the first). */
    private final double[] latestL;
    private INDArray update;
    private boolean[] stepping;
    private EnsembleCurvature.Columns moments;

    EnsembleOptimizer(TrainerSettings settings, BatchedMlp model, Dataset data) {
        this.settings = settings;
        this.model = model;
        this.runs = model.runs();
        this.optimizer = BatchedOptimizer.create(settings.optimizer(), settings.learningRate(), settings.batchSize(), runs);
        this.diagonals = settings.optimizer().usesDiagonals()
                ? new EnsembleDiagonals(model, data, settings.precision().dataType()) : null;
        this.layout = new RowLayout() {
            @Override
            public INDArray rows(double[][] thetas) {
                return model.rowsFromTheta(thetas);
            }

            @Override
            public double[] theta(INDArray rows, int run) {
                return model.thetaFromRows(rows, run);
            }
        };
        latestL = new double[runs];
        Arrays.fill(latestL, Double.NaN);
    }

    /**
     * Works out the step of iteration t for the runs that step (still going, not diverged at t) and returns every
     * run's step size: eta_t, or a per-coordinate rule's effective scalar step; the base step for the others (a run
     * that diverges publishes it, as on the per-run engine).
     *
     * @param moments the block's moments and L at t, or null when t is no moments iteration
     * @param norms   ||g_t|| per run
     * @param dots    g_t . g_{t-1} per run
     */
    double[] prepare(EnsembleCurvature.Columns moments, boolean[] stepping, double[] norms, double[] dots) {
        this.moments = moments;
        this.stepping = stepping.clone();
        FullBatchStatistics[] exact = new FullBatchStatistics[runs];
        double[] squares = new double[runs];
        boolean[] measured = new boolean[runs];
        for (int r = 0; r < runs; r++) {
            squares[r] = norms[r] * norms[r];                                    // ||g_t||^2
            measured[r] = stepping[r] && moments != null && !moments.missing()[r];
            exact[r] = measured[r]                                               // as RunCurvature.Measured#statistics
                    ? new FullBatchStatistics(moments.gradNormSq()[r], moments.traceM()[r],
                    moments.hessianSpectralNorm()[r], null, null)
                    : Double.isNaN(latestL[r]) ? FullBatchStatistics.NONE : FullBatchStatistics.withL(latestL[r]);
        }
        INDArray[] vectors = diagonals != null && moments != null ? diagonals.at(measured) : null;
        double[] stepSizes = new double[runs];
        Arrays.fill(stepSizes, settings.learningRate());
        update = optimizer.update(new BatchedOptimizer.Step(model::gradientRows, squares, dots, this.stepping, exact,
                vectors == null ? null : vectors[0], vectors == null ? null : vectors[1]), stepSizes);
        for (int r = 0; r < runs; r++) {
            if (!stepping[r]) {
                stepSizes[r] = settings.learningRate();
            }
        }
        return stepSizes;
    }

    /** Takes the step {@link #prepare} worked out: theta_{t+1} of every run (Eq. 8 / 35 / 36 / 39). */
    void apply() {
        if (update == null) {
            model.step(settings.learningRate());                                 // theta - eta g_t, Eq. 8
        } else {
            model.subtractRows(update);
        }
        update = null;
        for (int r = 0; r < runs; r++) {
            if (stepping[r] && moments != null && !moments.missing()[r]) {
                latestL[r] = moments.hessianSpectralNorm()[r];
            }
        }
    }

    /** Run r's optimizer state in the per-run engine's format, for its checkpoint. */
    OptimizerState state(int run, double[] previousGradient) {
        return optimizer.state(run, layout, previousGradient);
    }

    /** The latest L run r measured, NaN if none yet. */
    double latestL(int run) {
        return latestL[run];
    }

    /** Continues from per-run states (null: the run starts afresh) and their latest L. */
    void restore(OptimizerState[] states, double[] latest) {
        optimizer.restore(states, layout);
        System.arraycopy(latest, 0, latestL, 0, runs);
    }

    @Override
    public void close() {
        if (diagonals != null) {
            diagonals.close();
        }
    }
}
