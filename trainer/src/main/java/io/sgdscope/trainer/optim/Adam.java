package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Adam (Sec. 5.5, Eq. 37-39), for comparison with the preconditioned SGD of Theorem 3: moving averages
 * of the gradients and of their squares, bias-corrected, theta_j <- theta_j - eta g_j / (sqrt(nu_j) + eps).
 * The step size reported is the effective scalar step ||theta_{t+1} - theta_t|| / ||g_t||.
 */
public final class Adam implements Optimizer {

    public static final String NAME = "adam";

    private final double eta;
    private final double gamma1;
    private final double gamma2;
    private final double epsilon;
    private INDArray first;
    private INDArray second;
    private int steps;

    public Adam(double eta, double gamma1, double gamma2, double epsilon) {
        if (!(eta > 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + eta);
        }
        if (!(gamma1 >= 0 && gamma1 < 1) || !(gamma2 >= 0 && gamma2 < 1)) {
            throw new IllegalArgumentException("Adam's decays must be in [0, 1), got " + gamma1 + " and " + gamma2);
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("Adam's epsilon must be > 0, got " + epsilon);
        }
        this.eta = eta;
        this.gamma1 = gamma1;
        this.gamma2 = gamma2;
        this.epsilon = epsilon;
    }

    /** The usual defaults: gamma1 = 0.9, gamma2 = 0.999, eps = 1e-8. */
    public static Adam withDefaults(double eta) {
        return new Adam(eta, 0.9, 0.999, 1e-8);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double step(INDArray theta, INDArray gradient, FullBatchStatistics exact) {
        steps++;
        INDArray g = gradient.reshape(1, gradient.length());                   // one run: a [1, p] row
        if (first == null) {
            first = g.mul(0);
            second = g.mul(0);
        }
        INDArray corrections = Nd4j.valueArrayOf(new long[] {1, 1}, steps, g.dataType());
        INDArray update = update(g, first, second, corrections, eta, gamma1, gamma2, epsilon);
        theta.subi(update.reshape(theta.length()));
        return effectiveSteps(update, g)[0];
    }

    /**
     * Eq. 37-39 for one run per row of [R, p] matrices (the per-run engine: R = 1; the ensemble engine: a block):
     * updates the moving averages {@code first} and {@code second} in place and returns the step eta m_hat /
     * (sqrt(nu_hat) + eps) to subtract from theta, in the gradient's data type.
     *
     * @param steps [R, 1], the steps row r has taken, this one included (the bias corrections 1 - gamma^steps)
     */
    public static INDArray update(INDArray gradient, INDArray first, INDArray second, INDArray steps, double eta,
                                  double gamma1, double gamma2, double epsilon) {
        first.muli(gamma1).addi(gradient.mul(1 - gamma1));                       // Eq. 37
        second.muli(gamma2).addi(gradient.mul(gradient).muli(1 - gamma2));       // Eq. 38
        INDArray firstHat = first.divColumnVector(biasCorrections(steps, gamma1));
        INDArray secondHat = second.divColumnVector(biasCorrections(steps, gamma2));
        return firstHat.divi(Transforms.sqrt(secondHat, false).addi(epsilon)).muli(eta);   // Eq. 39
    }

    /** 1 - gamma^steps per row, [R, 1] in the type of {@code steps}: Adam's bias corrections (Eq. 37-38). */
    static INDArray biasCorrections(INDArray steps, double gamma) {
        double[] values = steps.toDoubleVector();
        double[] corrections = new double[values.length];
        for (int r = 0; r < values.length; r++) {
            corrections[r] = 1 - Math.pow(gamma, values[r]);
        }
        return Nd4j.createFromArray(corrections).castTo(steps.dataType()).reshape(values.length, 1);
    }

    /**
     * ||update_r|| / ||g_r|| per row (0 where g_r = 0): the effective scalar step of a per-coordinate rule, in
     * float64 from norms in the arrays' type.
     */
    public static double[] effectiveSteps(INDArray update, INDArray gradient) {
        double[] updateNorms = update.norm2(1).toDoubleVector();
        double[] gradientNorms = gradient.norm2(1).toDoubleVector();
        double[] steps = new double[updateNorms.length];
        for (int r = 0; r < steps.length; r++) {
            steps[r] = gradientNorms[r] == 0 ? 0 : updateNorms[r] / gradientNorms[r];
        }
        return steps;
    }

    @Override
    public OptimizerState state() {
        return OptimizerState.of(NAME).withScalar("steps", steps).withVector("first", first).withVector("second", second);
    }

    @Override
    public void restore(OptimizerState state, DataType type) {
        state.requireOf(NAME);
        steps = (int) state.scalar("steps");
        first = row(state.vector("first", type));
        second = row(state.vector("second", type));
    }

    /** A state vector as a [1, p] row, or null. */
    static INDArray row(INDArray vector) {
        return vector == null ? null : vector.reshape(1, vector.length());
    }
}
