package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * SGD with the diagonal preconditioner of Theorem 3 (Eq. 36): theta_{t+1,j} = theta_{t,j} - a_{t,j} g_{t,j}
 * with a_{t,j} = kappa mu_{t,j}^2 / (L M_{t,j}), kappa in (1/2, 3/2). Written as Eq. 41 it is
 * theta_j - eta (mu_j / sqrt(M_j))^2 g_j: the magnitude of an Adam step with the direction of SGD
 * (Sec. 5.5), eta = kappa / L.
 *
 * <p>With the exact mu_t and diag(M_t) of this iteration those are used. Otherwise they are estimated
 * from the stochastic gradients with Adam's moving averages (Eq. 37-38, bias-corrected): mu_j ~ the
 * average of g_j, and since E[g_j^2] = mu_j^2 + Sigma_jj / m, M_jj = mu_j^2 + Sigma_jj ~ m nu_j - (m - 1) mu_j^2
 * (kept >= mu_j^2). When L is unknown, eta = the base step replaces kappa / L. Coordinates with
 * M_jj = 0 do not move. The step size reported is the effective scalar step ||a . g|| / ||g||.
 */
public final class DiagonalPreconditioned implements Optimizer {

    public static final String NAME = "diagonal-preconditioned";

    private final double baseStep;
    private final double kappa;
    private final double gamma1;
    private final double gamma2;
    private final int batchSize;
    private INDArray first;
    private INDArray second;
    private int steps;

    /**
     * @param baseStep eta used in place of kappa / L while L is unknown
     * @param kappa    in (1/2, 3/2)
     * @param gamma1   decay of the gradient average (Eq. 37), in [0, 1)
     * @param gamma2   decay of the squared-gradient average (Eq. 38), in [0, 1)
     * @param batchSize m
     */
    public DiagonalPreconditioned(double baseStep, double kappa, double gamma1, double gamma2, int batchSize) {
        if (!(baseStep > 0) || Double.isInfinite(baseStep)) {
            throw new IllegalArgumentException("base step must be a finite number > 0, got " + baseStep);
        }
        if (!(kappa > 0.5 && kappa < 1.5)) {
            throw new IllegalArgumentException("kappa must be in (0.5, 1.5) to stay inside Eq. 36's interval, got " + kappa);
        }
        if (!(gamma1 >= 0 && gamma1 < 1) || !(gamma2 >= 0 && gamma2 < 1)) {
            throw new IllegalArgumentException("moving-average decays must be in [0, 1), got " + gamma1 + " and " + gamma2);
        }
        this.baseStep = baseStep;
        this.kappa = kappa;
        this.gamma1 = gamma1;
        this.gamma2 = gamma2;
        this.batchSize = batchSize;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double step(INDArray theta, INDArray gradient, FullBatchStatistics exact) {
        steps++;
        long p = gradient.length();
        INDArray g = gradient.reshape(1, p);                                   // one run: a [1, p] row
        if (first == null) {
            first = g.mul(0);
            second = g.mul(0);
        }
        INDArray counts = Nd4j.valueArrayOf(new long[] {1, 1}, steps, g.dataType());
        INDArray etas = Nd4j.valueArrayOf(new long[] {1, 1}, stepScale(exact), g.dataType());
        INDArray update = exact.hasDiagonals()
                ? update(g, first, second, counts, exact.fullGradient().reshape(1, p),
                        exact.secondMomentDiagonal().reshape(1, p), etas, gamma1, gamma2, batchSize)
                : update(g, first, second, counts, null, null, etas, gamma1, gamma2, batchSize);
        theta.subi(update.reshape(theta.length()));
        return Adam.effectiveSteps(update, g)[0];
    }

    /** eta of Eq. 41: kappa / L when L is known, else the base step. */
    public double stepScale(FullBatchStatistics exact) {
        return exact.hasL() ? kappa / exact.hessianSpectralNorm() : baseStep;
    }

    /**
     * Eq. 36/41 for one run per row of [R, p] matrices (the per-run engine: R = 1; the ensemble engine: a block):
     * updates Adam's moving averages {@code first} and {@code second} in place (Eq. 37-38) and returns the step
     * a . g to subtract from theta, a_j = eta_r mu_j^2 / M_jj (0 where M_jj = 0), in the gradient's data type.
     *
     * @param steps  [R, 1], the steps row r has taken, this one included (the bias corrections)
     * @param mu     [R, p], the exact mu_t per row, or null to estimate it (with {@code m} null too)
     * @param m      [R, p], the exact diag(M_t) per row, or null to estimate it
     * @param etas   [R, 1], eta per row ({@link #stepScale})
     */
    public static INDArray update(INDArray gradient, INDArray first, INDArray second, INDArray steps, INDArray mu,
                                  INDArray m, INDArray etas, double gamma1, double gamma2, int batchSize) {
        first.muli(gamma1).addi(gradient.mul(1 - gamma1));                       // Eq. 37
        second.muli(gamma2).addi(gradient.mul(gradient).muli(1 - gamma2));       // Eq. 38
        if (mu == null || m == null) {
            mu = first.divColumnVector(Adam.biasCorrections(steps, gamma1));
            INDArray nu = second.divColumnVector(Adam.biasCorrections(steps, gamma2));
            INDArray muSq = mu.mul(mu);
            m = Transforms.max(nu.mul(batchSize).subi(muSq.mul(batchSize - 1)), muSq, false);   // M_jj estimate
        }
        // a_j = eta mu_j^2 / M_jj (Eq. 36, 41); 0 where M_jj = 0.
        INDArray safeM = Transforms.max(m, Double.MIN_NORMAL, true);
        INDArray a = mu.mul(mu).divi(safeM).muliColumnVector(etas);
        a.muli(m.gt(0).castTo(a.dataType()));
        return a.muli(gradient);
    }

    @Override
    public OptimizerState state() {
        return OptimizerState.of(NAME).withScalar("steps", steps).withVector("first", first).withVector("second", second);
    }

    @Override
    public void restore(OptimizerState state, DataType type) {
        state.requireOf(NAME);
        steps = (int) state.scalar("steps");
        first = Adam.row(state.vector("first", type));
        second = Adam.row(state.vector("second", type));
    }
}
