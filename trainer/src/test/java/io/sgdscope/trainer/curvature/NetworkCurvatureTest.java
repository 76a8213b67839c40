package io.sgdscope.trainer.curvature;

import static io.sgdscope.trainer.curvature.CurvatureFixtures.GAUSS_10;
import static io.sgdscope.trainer.curvature.CurvatureFixtures.randomUnit;
import static io.sgdscope.trainer.curvature.CurvatureFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.CurvatureFixtures.Trained;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NetworkCurvatureTest {

    private static Trained trained;
    private static NetworkCurvature net;
    private static double[][] sampleGradients;

    @BeforeAll
    static void setUp() {
        trained = CurvatureFixtures.gauss10(30, 7L);
        net = trained.curvature();
        sampleGradients = PlainJavaGradients.sampleGradients(GAUSS_10.layers(), trained.theta(), trained.features(),
                trained.data().labels());
    }

    @Test
    void gradientAndLossEqualThePlainJavaReference() {
        double[] expected = PlainJavaGradients.gradient(GAUSS_10.layers(), trained.theta(), trained.features(),
                trained.data().labels());
        assertTrue(relativeError(net.gradient().toDoubleVector(), expected) < 1e-12);
        double loss = io.sgdscope.trainer.model.PlainJavaMlp.loss(GAUSS_10.layers(), trained.theta(), trained.features(),
                trained.data().labels());
        assertEquals(loss, net.loss(), 1e-12 * loss);
    }

    @Test
    void hessianTimesVectorEqualsCentralFiniteDifferencesOfTheGradientOnGauss10() {
        for (long seed = 1; seed <= 3; seed++) {
            double[] v = randomUnit(net.parameterCount(), seed);
            double eps = 1e-6;
            double[] plus = PlainJavaGradients.gradient(GAUSS_10.layers(), shifted(trained.theta(), v, eps),
                    trained.features(), trained.data().labels());
            double[] minus = PlainJavaGradients.gradient(GAUSS_10.layers(), shifted(trained.theta(), v, -eps),
                    trained.features(), trained.data().labels());
            double[] expected = new double[v.length];
            for (int j = 0; j < v.length; j++) {
                expected[j] = (plus[j] - minus[j]) / (2 * eps);
            }
            INDArray out = Nd4j.create(DataType.DOUBLE, v.length);
            net.hessianTimes(Nd4j.createFromArray(v), out);
            double error = relativeError(out.toDoubleVector(), expected);
            assertTrue(error <= 1e-5, "relative error of H v " + error);
        }
    }

    @Test
    void secondMomentTimesVectorEqualsExplicitPerSampleGradientsToTenDigits() {
        double[] v = randomUnit(net.parameterCount(), 11);
        double[] expected = new double[v.length];
        int n = sampleGradients.length;
        for (double[] g : sampleGradients) {
            double dot = 0;
            for (int j = 0; j < v.length; j++) {
                dot += g[j] * v[j];
            }
            for (int j = 0; j < v.length; j++) {
                expected[j] += g[j] * dot / n;
            }
        }
        INDArray out = Nd4j.create(DataType.DOUBLE, v.length);
        net.secondMomentTimes(Nd4j.createFromArray(v), out);
        double error = relativeError(out.toDoubleVector(), expected);
        assertTrue(error <= 1e-10, "relative error of M v " + error);
    }

    @Test
    void perSampleJacobianRowsAreThePlainJavaSampleGradients() {
        double[][] jacobian = net.perSampleGradients();
        for (int i = 0; i < jacobian.length; i += 7) {
            assertTrue(relativeError(jacobian[i], sampleGradients[i]) < 1e-12, "row " + i);
        }
    }

    @Test
    void momentsFromTheGramMatrixEqualMomentsFromExplicitSampleGradients() {
        Reference reference = new Reference(sampleGradients);
        GradientMoments moments = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
        assertEquals(reference.gradNormSq, moments.gradNormSq(), 1e-12 * reference.gradNormSq);
        assertEquals(reference.traceM, moments.traceM(), 1e-12 * reference.traceM);
        assertEquals(reference.traceM, net.traceSecondMoment(), 1e-12 * reference.traceM);
        assertEquals(reference.traceM - reference.gradNormSq, moments.traceSigma(), 1e-12 * reference.traceM);
        assertEquals(reference.sigmaFrobenius, moments.sigmaFrobenius(), 1e-10 * reference.sigmaFrobenius);
        assertEquals(reference.sigmaSpectral, moments.sigmaSpectral(), 1e-10 * reference.sigmaSpectral);
        assertEquals(reference.sigmaHalfMuNorm, moments.sigmaHalfMuNorm(), 1e-9 * reference.sigmaHalfMuNorm);
    }

    @Test
    void matrixFreeMomentsForLargeNAgreeWithTheGramMatrix() {
        GradientMoments gram = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
        GradientMoments free = GradientMoments.of(net, 10);
        assertEquals(gram.gradNormSq(), free.gradNormSq(), 1e-12 * gram.gradNormSq());
        assertEquals(gram.traceM(), free.traceM(), 1e-12 * gram.traceM());
        assertEquals(gram.sigmaFrobenius(), free.sigmaFrobenius(), 1e-9 * gram.sigmaFrobenius());
        assertEquals(gram.sigmaSpectral(), free.sigmaSpectral(), 1e-8 * gram.sigmaSpectral());
        assertEquals(gram.sigmaHalfMuNorm(), free.sigmaHalfMuNorm(), 1e-6 * gram.sigmaHalfMuNorm());
    }

    @Test
    void exactHessianDiagonalEqualsTheDiagonalOfTheDenseHessian() {
        INDArray dense = DenseCurvature.matrix(net.hessian());
        double[] expected = new double[net.parameterCount()];
        for (int j = 0; j < expected.length; j++) {
            expected[j] = dense.getDouble(j, j);
        }
        double error = relativeError(net.hessianDiagonal().toDoubleVector(), expected);
        assertTrue(error < 1e-12, "relative error of diag(H_f) " + error);
    }

    private static double[] shifted(double[] theta, double[] v, double eps) {
        double[] out = theta.clone();
        for (int j = 0; j < out.length; j++) {
            out[j] += eps * v[j];
        }
        return out;
    }

    /** Moments of Eq. 4-7 straight from explicit per-sample gradients and the dense p x p Sigma. */
    private static final class Reference {
        final double gradNormSq;
        final double traceM;
        final double sigmaFrobenius;
        final double sigmaSpectral;
        final double sigmaHalfMuNorm;

        Reference(double[][] g) {
            int n = g.length;
            int p = g[0].length;
            double[] mu = new double[p];
            for (double[] row : g) {
                for (int j = 0; j < p; j++) {
                    mu[j] += row[j] / n;
                }
            }
            double[][] sigma = new double[p][p];
            double trace = 0;
            for (double[] row : g) {
                for (int a = 0; a < p; a++) {
                    trace += row[a] * row[a] / n;
                    double da = row[a] - mu[a];
                    if (da == 0) {
                        continue;
                    }
                    for (int b = 0; b < p; b++) {
                        sigma[a][b] += da * (row[b] - mu[b]) / n;                    // Eq. 5
                    }
                }
            }
            double norm = 0;
            double frob = 0;
            double quad = 0;
            for (int a = 0; a < p; a++) {
                norm += mu[a] * mu[a];
                double s = 0;
                for (int b = 0; b < p; b++) {
                    frob += sigma[a][b] * sigma[a][b];
                    s += sigma[a][b] * mu[b];
                }
                quad += mu[a] * s;
            }
            gradNormSq = norm;
            traceM = trace;
            sigmaFrobenius = Math.sqrt(frob);
            sigmaHalfMuNorm = Math.sqrt(quad);
            double[] values = DenseCurvature.eigenvalues(Nd4j.createFromArray(sigma));     // LAPACK on the p x p Sigma
            double max = Double.NEGATIVE_INFINITY;
            for (double value : values) {
                max = Math.max(max, value);
            }
            sigmaSpectral = max;
        }
    }
}
