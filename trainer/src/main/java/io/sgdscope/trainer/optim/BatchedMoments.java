package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adam (Eq. 37-39) or the diagonal preconditioner (Eq. 36/41) for a block of runs: the moving averages of g and
 * g^2 of every run as [R, q] rows in the block's data type, a step count per run, and the per-run classes' row
 * arithmetic ({@link Adam#update}, {@link DiagonalPreconditioned#update}) applied to the whole block at once.
 */
final class BatchedMoments extends BatchedOptimizer {

    private final OptimizerSettings settings;
    private final double learningRate;
    private final int batchSize;
    private final int runs;
    private final boolean adam;
    /** The per-run rule, for its step scale (diagonal) and its state's name and format. */
    private final Optimizer single;
    private INDArray first;
    private INDArray second;
    private final int[] steps;

    BatchedMoments(OptimizerSettings settings, double learningRate, int batchSize, int runs) {
        this.settings = settings;
        this.learningRate = learningRate;
        this.batchSize = batchSize;
        this.runs = runs;
        this.adam = settings.name().equals(OptimizerSettings.ADAM);
        this.single = settings.create(learningRate, batchSize);
        this.steps = new int[runs];
    }

    @Override
    public INDArray update(Step step, double[] stepSizes) {
        INDArray g = step.gradient().get();
        DataType type = g.dataType();
        if (first == null) {
            first = g.mul(0);
            second = g.mul(0);
        }
        boolean[] stepping = step.stepping();
        int[] kept = kept(stepping);
        INDArray[] keptFirst = new INDArray[kept.length];
        INDArray[] keptSecond = new INDArray[kept.length];
        for (int i = 0; i < kept.length; i++) {                   // the runs that do not step keep their averages
            keptFirst[i] = first.getRow(kept[i]).dup();
            keptSecond[i] = second.getRow(kept[i]).dup();
        }
        double[] counts = new double[runs];
        for (int r = 0; r < runs; r++) {
            counts[r] = stepping[r] ? steps[r] + 1 : Math.max(1, steps[r]);
        }
        INDArray countColumn = column(counts, type);
        INDArray update;
        if (adam) {
            update = Adam.update(g, first, second, countColumn, learningRate, settings.beta1(), settings.beta2(),
                    settings.epsilon());                                                      // Eq. 37-39
        } else {
            DiagonalPreconditioned rule = (DiagonalPreconditioned) single;
            double[] etas = new double[runs];
            for (int r = 0; r < runs; r++) {
                etas[r] = rule.stepScale(step.exact()[r] == null ? FullBatchStatistics.NONE : step.exact()[r]);
            }
            update = DiagonalPreconditioned.update(g, first, second, countColumn, step.mu(), step.diagonalM(),
                    column(etas, type), settings.beta1(), settings.beta2(), batchSize);      // Eq. 36/41
        }
        double[] effective = Adam.effectiveSteps(update, g);
        for (int r = 0; r < runs; r++) {
            if (stepping[r]) {
                steps[r]++;
                stepSizes[r] = effective[r];
            }
        }
        for (int i = 0; i < kept.length; i++) {
            first.getRow(kept[i]).assign(keptFirst[i]);
            second.getRow(kept[i]).assign(keptSecond[i]);
            update.getRow(kept[i]).assign(0);
        }
        return update;
    }

    private static int[] kept(boolean[] stepping) {
        int count = 0;
        for (boolean s : stepping) {
            count += s ? 0 : 1;
        }
        int[] kept = new int[count];
        for (int r = 0, i = 0; r < stepping.length; r++) {
            if (!stepping[r]) {
                kept[i++] = r;
            }
        }
        return kept;
    }

    private static INDArray column(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(values.length, 1);
    }

    @Override
    public OptimizerState state(int run, RowLayout layout, double[] previousGradient) {
        OptimizerState state = OptimizerState.of(single.name()).withScalar("steps", steps[run]);
        if (first == null) {
            return state;
        }
        return state.withVector("first", layout.theta(first, run)).withVector("second", layout.theta(second, run));
    }

    @Override
    public void restore(OptimizerState[] states, RowLayout layout) {
        double[][] firsts = new double[runs][];
        double[][] seconds = new double[runs][];
        boolean any = false;
        for (int r = 0; r < runs; r++) {
            if (states[r] != null) {
                states[r].requireOf(single.name());
                steps[r] = (int) states[r].scalar("steps");
                firsts[r] = states[r].vectors().get("first");
                seconds[r] = states[r].vectors().get("second");
                any |= firsts[r] != null;
            }
        }
        if (any) {
            first = layout.rows(firsts);
            second = layout.rows(seconds);
        }
    }
}
