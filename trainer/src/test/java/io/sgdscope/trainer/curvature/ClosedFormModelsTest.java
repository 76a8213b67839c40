package io.sgdscope.trainer.curvature;

import static io.sgdscope.trainer.curvature.CurvatureFixtures.randomUnit;
import static io.sgdscope.trainer.curvature.CurvatureFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The matrix-free products against the closed forms of Table 1 (App. B.4), written out in plain Java. */
class ClosedFormModelsTest {

    private static final int N = 40;
    private static final int D = 25;

    @Test
    void leastSquaresProductsEqualTableOneClosedForms() {
        SplittableRandom random = new SplittableRandom(3);
        double[][] x = design(random);
        double[] theta = gaussian(D + 1, random);
        double[] y = new double[N];
        for (int i = 0; i < N; i++) {
            y[i] = dot(x[i], theta) + 0.7 * random.nextGaussian();
        }
        double sigma = 0.8;
        NetworkCurvature model = LinearModels.leastSquares(Nd4j.createFromArray(withoutBias(x)), y, sigma,
                Nd4j.createFromArray(theta), DataType.DOUBLE);
        double[] hWeights = new double[N];
        double[] mWeights = new double[N];
        for (int i = 0; i < N; i++) {
            double r = dot(x[i], theta) - y[i];
            hWeights[i] = 1 / (sigma * sigma);                                       // H_f = X^T X / (n sigma^2)
            mWeights[i] = r * r / Math.pow(sigma, 4);                                // M_t = sum r_i^2 x x^T / (n sigma^4)
        }
        assertProductsMatch(model, x, hWeights, mWeights);
    }

    @Test
    void logisticRegressionProductsEqualTableOneClosedForms() {
        SplittableRandom random = new SplittableRandom(4);
        double[][] x = design(random);
        double[] theta = gaussian(D + 1, random);
        int[] labels = new int[N];
        double[] hWeights = new double[N];
        double[] mWeights = new double[N];
        for (int i = 0; i < N; i++) {
            labels[i] = random.nextBoolean() ? 1 : 0;
            double p = 1 / (1 + Math.exp(-dot(x[i], theta)));
            hWeights[i] = p * (1 - p);                                               // sigma_theta(x_i)
            mWeights[i] = (p - labels[i]) * (p - labels[i]);
        }
        NetworkCurvature model = LinearModels.binaryLogistic(Nd4j.createFromArray(withoutBias(x)), labels,
                Nd4j.createFromArray(theta), DataType.DOUBLE);
        assertProductsMatch(model, x, hWeights, mWeights);
    }

    @Test
    void atTheInterpolatingLeastSquaresSolutionTheSecondMomentVanishesAndHpIsMinusHf() {
        // Eq. 18: n < p and X theta = y give M = 0 and H_p = -H_f.
        SplittableRandom random = new SplittableRandom(5);
        int n = 10;
        double[][] x = new double[n][D + 1];
        for (double[] row : x) {
            for (int j = 0; j < D; j++) {
                row[j] = random.nextGaussian();
            }
            row[D] = 1;
        }
        double[] theta = gaussian(D + 1, random);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = dot(x[i], theta);
        }
        NetworkCurvature model = LinearModels.leastSquares(Nd4j.createFromArray(withoutBias(x)), y, 1.5,
                Nd4j.createFromArray(theta), DataType.DOUBLE);
        INDArray v = Nd4j.createFromArray(randomUnit(D + 1, 9));
        INDArray m = Nd4j.create(DataType.DOUBLE, D + 1);
        INDArray h = Nd4j.create(DataType.DOUBLE, D + 1);
        INDArray hp = Nd4j.create(DataType.DOUBLE, D + 1);
        model.secondMomentTimes(v, m);
        model.hessianTimes(v, h);
        model.predictionHessianTimes(v, hp);
        assertTrue(m.norm2Number().doubleValue() < 1e-24);
        assertTrue(relativeError(hp.toDoubleVector(), h.neg().toDoubleVector()) < 1e-12);
    }

    /** H v, M v and H_p v against (1/n) sum w_i x_i x_i^T v for the two weightings of Table 1. */
    private static void assertProductsMatch(NetworkCurvature model, double[][] x, double[] hWeights, double[] mWeights) {
        for (long seed = 1; seed <= 3; seed++) {
            double[] v = randomUnit(D + 1, seed);
            double[] hExpected = weightedGram(x, hWeights, v);
            double[] mExpected = weightedGram(x, mWeights, v);
            double[] hpExpected = new double[v.length];
            for (int j = 0; j < v.length; j++) {
                hpExpected[j] = mExpected[j] - hExpected[j];                          // Table 1, H_p row
            }
            INDArray out = Nd4j.create(DataType.DOUBLE, v.length);
            model.hessianTimes(Nd4j.createFromArray(v), out);
            assertTrue(relativeError(out.toDoubleVector(), hExpected) < 1e-12, "H v");
            model.secondMomentTimes(Nd4j.createFromArray(v), out);
            assertTrue(relativeError(out.toDoubleVector(), mExpected) < 1e-12, "M v");
            model.predictionHessianTimes(Nd4j.createFromArray(v), out);
            assertTrue(relativeError(out.toDoubleVector(), hpExpected) < 1e-11, "H_p v");
        }
        double traceM = 0;
        for (int i = 0; i < x.length; i++) {
            traceM += mWeights[i] * dot(x[i], x[i]) / x.length;
        }
        assertEquals(traceM, model.traceSecondMoment(), 1e-12 * traceM);
    }

    private static double[] weightedGram(double[][] x, double[] weights, double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < x.length; i++) {
            double s = weights[i] * dot(x[i], v) / x.length;
            for (int j = 0; j < v.length; j++) {
                out[j] += s * x[i][j];
            }
        }
        return out;
    }

    /** Rows [x_i, 1]: the bias is the last coordinate of theta, as in the network layout (W then b). */
    private static double[][] design(SplittableRandom random) {
        double[][] x = new double[N][D + 1];
        for (double[] row : x) {
            for (int j = 0; j < D; j++) {
                row[j] = random.nextGaussian();
            }
            row[D] = 1;
        }
        return x;
    }

    private static double[][] withoutBias(double[][] x) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = java.util.Arrays.copyOf(x[i], D);
        }
        return out;
    }

    private static double[] gaussian(int size, SplittableRandom random) {
        double[] values = new double[size];
        for (int j = 0; j < size; j++) {
            values[j] = 0.5 * random.nextGaussian();
        }
        return values;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += a[j] * b[j];
        }
        return s;
    }
}
