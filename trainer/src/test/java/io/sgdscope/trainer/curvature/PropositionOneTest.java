package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.PlainJavaMlp;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Proposition 1 (Eq. 12) numerically: H_f = M_t - H_p with H_p = (1/n) sum_i (1/p_i) d^2 p_i / d theta^2
 * taken from its own definition, by central differences of grad p_i = -p_i grad f_i (plain Java),
 * on a small ReLU net.
 */
class PropositionOneTest {

    private static final MlpArchitecture NET = MlpArchitecture.of(4, 5, 3);

    @Test
    void hessianEqualsSecondMomentMinusTheSecondDerivativesOfTheLikelihoodOverIt() {
        SplittableRandom random = new SplittableRandom(12);
        int n = 6;
        double[][] x = new double[n][4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 4; j++) {
                x[i][j] = random.nextGaussian();
            }
            y[i] = random.nextInt(3);
        }
        int p = NET.parameterCount();
        double[] theta = new double[p];
        for (int j = 0; j < p; j++) {
            theta[j] = 0.8 * random.nextGaussian();
        }

        double[][] hpDefinition = new double[p][p];
        double eps = 1e-5;
        for (int i = 0; i < n; i++) {
            double pi = likelihood(theta, x[i], y[i]);
            for (int j = 0; j < p; j++) {
                double[] plus = theta.clone();
                double[] minus = theta.clone();
                plus[j] += eps;
                minus[j] -= eps;
                double[] gPlus = likelihoodGradient(plus, x[i], y[i]);
                double[] gMinus = likelihoodGradient(minus, x[i], y[i]);
                for (int a = 0; a < p; a++) {
                    hpDefinition[a][j] += (gPlus[a] - gMinus[a]) / (2 * eps) / pi / n;   // (1/n)(1/p_i) d^2 p_i
                }
            }
        }

        NetworkCurvature net = NetworkCurvature.classifier(NET, Nd4j.createFromArray(theta), Nd4j.createFromArray(x), y,
                DataType.DOUBLE);
        INDArray hessian = DenseCurvature.matrix(net.hessian());
        INDArray secondMoment = DenseCurvature.matrix(net.secondMoment());
        INDArray hp = Nd4j.createFromArray(hpDefinition);
        INDArray rebuilt = secondMoment.sub(hp);                                       // M_t - H_p, Eq. 12
        double error = rebuilt.sub(hessian).norm2Number().doubleValue() / hessian.norm2Number().doubleValue();
        assertTrue(error < 1e-7, "relative Frobenius error of H_f - (M_t - H_p) " + error);
        // and the operator H_p v agrees with the definition
        INDArray dense = DenseCurvature.matrix(net.predictionHessian());
        double hpError = dense.sub(hp).norm2Number().doubleValue() / hp.norm2Number().doubleValue();
        assertTrue(hpError < 1e-7, "relative error of H_p " + hpError);
    }

    private static double likelihood(double[] theta, double[] x, int y) {
        return Math.exp(-PlainJavaMlp.loss(NET.layers(), theta, new double[][] {x}, new int[] {y}));
    }

    /** grad p = p grad log p = -p grad f. */
    private static double[] likelihoodGradient(double[] theta, double[] x, int y) {
        double p = likelihood(theta, x, y);
        double[] g = PlainJavaGradients.sampleGradient(NET.layers(), theta, x, y);
        for (int j = 0; j < g.length; j++) {
            g[j] *= -p;
        }
        return g;
    }
}
