package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SecondMomentDiagonalTest {

    @Test
    void diagonalOfMEqualsTheMeanSquaredPlainJavaSampleGradients() {
        CurvatureFixtures.Trained trained = CurvatureFixtures.gauss10(20, 3);
        double[][] x = trained.features();
        int[] y = trained.data().labels();
        // M_jj = (1/n) sum_i (grad f_i)_j^2 (Eq. 7), from per-sample gradients written out in plain Java.
        double[][] sampleGradients = PlainJavaGradients.sampleGradients(CurvatureFixtures.GAUSS_10.layers(), trained.theta(), x, y);
        double[] expected = new double[trained.theta().length];
        for (double[] g : sampleGradients) {
            for (int j = 0; j < g.length; j++) {
                expected[j] += g[j] * g[j] / x.length;
            }
        }
        try (NetworkCurvature net = trained.curvature()) {
            double[] actual = net.secondMomentDiagonal().toDoubleVector();
            double error = CurvatureFixtures.relativeError(actual, expected);
            assertTrue(error < 1e-12, "relative error " + error);
            double trace = 0;
            for (double value : actual) {
                trace += value;
            }
            // Tr M is the sum of the diagonal (computed by NetworkCurvature in another way).
            assertTrue(Math.abs(trace - net.traceSecondMoment()) < 1e-12 * trace, trace + " vs " + net.traceSecondMoment());
        }
    }
}
