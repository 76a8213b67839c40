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
        if (first == null) {
            first = gradient.mul(0);
            second = gradient.mul(0);
        }
        first.muli(gamma1).addi(gradient.mul(1 - gamma1)); // Eq. 37
        second.muli(gamma2).addi(gradient.mul(gradient).muli(1 - gamma2)); // Eq. 38
        INDArray mu;
        INDArray m;
        if (exact.hasDiagonals()) {
            mu = exact.fullGradient();
            m = exact.secondMomentDiagonal();
        } else {
            mu = first.div(1 - Math.pow(gamma1, steps));
            INDArray nu = second.div(1 - Math.pow(gamma2, steps));
            INDArray muSq = mu.mul(mu);
            m = Transforms.max(nu.mul(batchSize).subi(muSq.mul(batchSize - 1)), muSq, false);
        }
        double eta = exact.hasL() ? kappa / exact.hessianSpectralNorm() : baseStep;
        // a_j = eta mu_j^2 / M_jj (Eq. 36, 41); 0 where M_jj = 0.
        INDArray safeM = Transforms.max(m, Double.MIN_NORMAL, true);
        INDArray a = mu.mul(mu).divi(safeM).muli(eta);
        a.muli(m.gt(0).castTo(a.dataType()));
        INDArray update = a.muli(gradient);
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
