package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Vanilla SGD with a constant step size: theta_{t+1} = theta_t - eta g_t (Eq. 8, 23).
 *
 * @param learningRate eta > 0
 */
public record Sgd(double learningRate) implements Optimizer {

    /** Optimizer name in provenance ({@code RunStarted.optimizer.name}). */
    public static final String NAME = "sgd";

    public Sgd {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + learningRate);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** theta <- theta - eta g (Eq. 8, 23); the full-batch statistics are not used. Returns eta. */
    @Override
    public double step(INDArray theta, INDArray gradient, FullBatchStatistics exact) {
        step(theta, gradient);
        return learningRate;
    }

    /** Constant-step SGD carries nothing between steps. */
    @Override
    public OptimizerState state() {
        return OptimizerState.of(NAME);
    }

    @Override
    public void restore(OptimizerState state, DataType type) {
        state.requireOf(NAME);
    }

    /** theta <- theta - eta g in place (Eq. 8, 23); one BLAS axpy on the flat vectors. */
    public void step(INDArray theta, INDArray gradient) {
        if (theta.length() != gradient.length()) {
            throw new IllegalArgumentException("theta has " + theta.length() + " entries, the gradient " + gradient.length());
        }
        Nd4j.getBlasWrapper().level1().axpy(theta.length(), -learningRate, gradient, theta);
    }
}
