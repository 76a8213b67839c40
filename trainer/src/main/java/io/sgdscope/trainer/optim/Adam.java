package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
        if (first == null) {
            first = gradient.mul(0);
            second = gradient.mul(0);
        }
        first.muli(gamma1).addi(gradient.mul(1 - gamma1)); // Eq. 37
        second.muli(gamma2).addi(gradient.mul(gradient).muli(1 - gamma2)); // Eq. 38
        INDArray firstHat = first.div(1 - Math.pow(gamma1, steps));
        INDArray secondHat = second.div(1 - Math.pow(gamma2, steps));
        INDArray update = firstHat.divi(Transforms.sqrt(secondHat, false).addi(epsilon)).muli(eta); // Eq. 39
        theta.subi(update);
        double gradientNorm = gradient.norm2Number().doubleValue();
        return gradientNorm == 0 ? 0 : update.norm2Number().doubleValue() / gradientNorm;
    }

    @Override
    public OptimizerState state() {
        return OptimizerState.of(NAME).withScalar("steps", steps).withVector("first", first).withVector("second", second);
    }

    @Override
    public void restore(OptimizerState state, DataType type) {
        state.requireOf(NAME);
        steps = (int) state.scalar("steps");
        first = state.vector("first", type);
        second = state.vector("second", type);
    }
}
