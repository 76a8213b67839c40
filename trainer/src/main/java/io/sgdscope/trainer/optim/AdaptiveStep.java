package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SGD with the adaptive step size of Theorem 3 (Eq. 35): eta_t = kappa ||mu_t||^2 / (L Tr M_t) with
 * kappa in (1/2, 3/2), which makes -eta ||mu||^2 + (eta^2/2) L Tr M <= 0, so the loss process is a
 * super-martingale (Sec. 5.4). kappa = 1 is the middle of the interval.
 *
 * <p>When the trainer computed ||mu_t||^2 and Tr M_t exactly at this iteration they are used. Otherwise
 * (the paper leaves the estimation open) they are estimated from the stochastic gradients alone, with
 * exponential moving averages of decay beta over the steps so far:
 * <ul>
 *   <li>a = EMA of g_t . g_{t-1}: successive minibatches are independent, so E[g_t . g_{t-1}] =
 *       mu_t . mu_{t-1}, which is ||mu_t||^2 up to the change of mu over one small step;</li>
 *   <li>b = EMA of ||g_t||^2, whose expectation is Tr M_t^(m) = ||mu_t||^2 + Tr Sigma_t / m (Eq. 26);</li>
 *   <li>hence ||mu||^2 ~ max(a, 0) and Tr M = Tr Sigma + ||mu||^2 ~ m (b - a) + a.</li>
 * </ul>
 * L is the latest known spectral norm (a spectrum snapshot's). Since ||mu||^2 <= Tr M always, the
 * ratio is capped at 1, so eta_t <= kappa / L even when the estimates are noisy. Until L and the
 * estimates exist (the first steps), the fallback step eta_0 is used.
 */
public final class AdaptiveStep implements Optimizer {

    public static final String NAME = "adaptive-step";

    private final double fallbackStep;
    private final double kappa;
    private final double beta;
    private final int batchSize;
    private INDArray previous;
    private double dotAverage;
    private double squareAverage;
    private int dotCount;
    private int squareCount;

    /**
     * @param fallbackStep eta_0 > 0, used while L or the estimates are unknown
     * @param kappa        in (1/2, 3/2), where eta_t sits in the interval of Eq. 35 (1 = its middle)
     * @param beta         decay of the moving averages, in [0, 1)
     * @param batchSize    m
     */
    public AdaptiveStep(double fallbackStep, double kappa, double beta, int batchSize) {
        if (!(fallbackStep > 0) || Double.isInfinite(fallbackStep)) {
            throw new IllegalArgumentException("fallback step must be a finite number > 0, got " + fallbackStep);
        }
        if (!(kappa > 0.5 && kappa < 1.5)) {
            throw new IllegalArgumentException("kappa must be in (0.5, 1.5) to stay inside Eq. 35's interval, got " + kappa);
        }
        if (!(beta >= 0 && beta < 1)) {
            throw new IllegalArgumentException("moving-average decay must be in [0, 1), got " + beta);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.fallbackStep = fallbackStep;
        this.kappa = kappa;
        this.beta = beta;
        this.batchSize = batchSize;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double step(INDArray theta, INDArray gradient, FullBatchStatistics exact) {
        double square = Nd4j.getBlasWrapper().level1().dot(gradient.length(), 1.0, gradient, gradient);
        Double dot = previous == null ? null
                : Nd4j.getBlasWrapper().level1().dot(gradient.length(), 1.0, gradient, previous);
        double eta = advance(square, dot, exact);
        Nd4j.getBlasWrapper().level1().axpy(theta.length(), -eta, gradient, theta);
        previous = previous == null ? gradient.dup() : previous.assign(gradient);
        return eta;
    }

    /**
     * Takes g_t's statistics into the moving averages and returns eta_t (Eq. 35): the part of a step that does
     * not touch theta, shared by both engines (the ensemble engine keeps one of these per run and computes the
     * dot products for a whole block at once, in float64 from the arrays' type).
     *
     * @param square ||g_t||^2
     * @param dot    g_t . g_{t-1}, or null before the first step (no g_{t-1})
     */
    public double advance(double square, Double dot, FullBatchStatistics exact) {
        squareAverage = average(squareAverage, square, squareCount++);
        if (dot != null) {
            dotAverage = average(dotAverage, dot, dotCount++);
        }
        return stepSize(exact);
    }

    /** Whether a step has been taken (so that the next one has a g_{t-1}). */
    public boolean hasStepped() {
        return squareCount > 0;
    }

    /**
     * The state after {@link #advance} steps, with g_{t-1} given by whoever keeps it (the ensemble engine keeps
     * the block's previous gradients itself), in the format of {@link #state()}.
     */
    public OptimizerState state(double[] previousGradient) {
        OptimizerState state = OptimizerState.of(NAME).withScalar("dotAverage", dotAverage)
                .withScalar("squareAverage", squareAverage).withScalar("dotCount", dotCount)
                .withScalar("squareCount", squareCount);
        return previousGradient == null ? state : state.withVector("previous", previousGradient);
    }

    /** eta_t of Eq. 35 from exact values when given, else from the running estimates; the fallback until then. */
    double stepSize(FullBatchStatistics exact) {
        if (!exact.hasL()) {
            return fallbackStep;
        }
        double muSq;
        double traceM;
        if (exact.hasScalarMoments()) {
            muSq = exact.gradNormSq();
            traceM = exact.traceM();
        } else if (dotCount > 0) {
            muSq = Math.max(dotAverage, 0);
            traceM = batchSize * (squareAverage - dotAverage) + dotAverage;
        } else {
            return fallbackStep;
        }
        if (!(muSq > 0) || !(traceM > 0)) {
            return fallbackStep;
        }
        return kappa * Math.min(muSq / traceM, 1.0) / exact.hessianSpectralNorm();
    }

    @Override
    public OptimizerState state() {
        return OptimizerState.of(NAME).withScalar("dotAverage", dotAverage).withScalar("squareAverage", squareAverage)
                .withScalar("dotCount", dotCount).withScalar("squareCount", squareCount).withVector("previous", previous);
    }

    @Override
    public void restore(OptimizerState state, DataType type) {
        state.requireOf(NAME);
        dotAverage = state.scalar("dotAverage");
        squareAverage = state.scalar("squareAverage");
        dotCount = (int) state.scalar("dotCount");
        squareCount = (int) state.scalar("squareCount");
        previous = state.vector("previous", type);
    }

    /** Bias-corrected exponential moving average after {@code count} earlier values (the first value is taken as is). */
    private double average(double current, double value, int count) {
        if (count == 0) {
            return value;
        }
        return beta * current + (1 - beta) * value;
    }
}
