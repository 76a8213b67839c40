package io.sgdscope.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The first steps of each optimizer on a 3-parameter problem, against computations done by hand here. */
class OptimizersTest {

    private static final double TOLERANCE = 1e-15;

    @Test
    void theAdaptiveStepUsesEq35WithExactMoments() {
        AdaptiveStep adaptive = new AdaptiveStep(0.1, 1.0, 0.5, 5);
        INDArray theta = vector(1, -2, 0.5);
        double eta = adaptive.step(theta, vector(1, 0, 2), new FullBatchStatistics(2, 8, 4, null, null));
        // eta = kappa ||mu||^2 / (L Tr M) = 2 / (4 * 8)
        assertEquals(0.0625, eta, TOLERANCE);
        assertArrayEquals(new double[] {1 - 0.0625, -2, 0.5 - 0.125}, theta.toDoubleVector(), TOLERANCE);
    }

    @Test
    void theAdaptiveStepEstimatesTheMomentsFromSuccessiveGradients() {
        AdaptiveStep adaptive = new AdaptiveStep(0.1, 1.0, 0.5, 5);
        INDArray theta = vector(1, -2, 0.5);
        // Step 0: no g_{t-1} yet, so the fallback step 0.1.
        assertEquals(0.1, adaptive.step(theta, vector(1, 1, 0), FullBatchStatistics.withL(2)), TOLERANCE);
        assertArrayEquals(new double[] {0.9, -2.1, 0.5}, theta.toDoubleVector(), TOLERANCE);
        // Step 1: EMA(||g||^2) = 0.5 * 2 + 0.5 * 2 = 2, EMA(g_t . g_{t-1}) = 1, so ||mu||^2 ~ 1 and
        // Tr M ~ m (2 - 1) + 1 = 6; eta = (1 / 6) / L with L = 2.
        double eta = adaptive.step(theta, vector(1, 0, 1), FullBatchStatistics.withL(2));
        assertEquals(1.0 / 12, eta, TOLERANCE);
        assertArrayEquals(new double[] {0.9 - 1.0 / 12, -2.1, 0.5 - 1.0 / 12}, theta.toDoubleVector(), TOLERANCE);
    }

    @Test
    void theAdaptiveStepFallsBackWhileLIsUnknown() {
        AdaptiveStep adaptive = new AdaptiveStep(0.1, 1.0, 0.5, 5);
        INDArray theta = vector(0, 0, 0);
        adaptive.step(theta, vector(1, 1, 0), FullBatchStatistics.NONE);
        assertEquals(0.1, adaptive.step(theta, vector(1, 0, 1), FullBatchStatistics.NONE), TOLERANCE);
    }

    @Test
    void theDiagonalPreconditionerUsesEq36WithExactDiagonals() {
        DiagonalPreconditioned diagonal = new DiagonalPreconditioned(0.1, 1.0, 0.9, 0.999, 5);
        INDArray theta = vector(1, -2, 0.5);
        FullBatchStatistics exact = new FullBatchStatistics(5, 10, 4, vector(1, 2, 0), vector(2, 8, 0));
        double effective = diagonal.step(theta, vector(1, 1, 1), exact);
        // a_j = kappa mu_j^2 / (L M_jj) = [1/(4*2), 4/(4*8), 0 (M_jj = 0)] = [0.125, 0.125, 0]
        assertArrayEquals(new double[] {0.875, -2.125, 0.5}, theta.toDoubleVector(), TOLERANCE);
        assertEquals(Math.sqrt(2 * 0.125 * 0.125) / Math.sqrt(3), effective, 1e-15);
    }

    @Test
    void theDiagonalPreconditionersFirstEstimatedStepIsSgdWithTheBaseStep() {
        // After one gradient the bias-corrected averages are mu = g and nu = g^2, so M = m g^2 - (m - 1) g^2 = g^2
        // and a_j = eta g_j^2 / g_j^2 = eta wherever g_j != 0.
        DiagonalPreconditioned diagonal = new DiagonalPreconditioned(0.1, 1.0, 0.9, 0.999, 5);
        INDArray theta = vector(1, -2, 0.5);
        diagonal.step(theta, vector(0.5, -3, 0), FullBatchStatistics.NONE);
        assertArrayEquals(new double[] {1 - 0.05, -2 + 0.3, 0.5}, theta.toDoubleVector(), 1e-15);
    }

    @Test
    void adamsFirstTwoStepsMatchEq37To39() {
        double eta = 0.01;
        double g1 = 0.9;
        double g2 = 0.999;
        double eps = 1e-8;
        Adam adam = new Adam(eta, g1, g2, eps);
        INDArray theta = vector(1, -2, 0.5);
        double[] a = {0.5, -2, 0};
        double[] b = {1, 1, -4};
        adam.step(theta, vector(a), FullBatchStatistics.NONE);
        adam.step(theta, vector(b), FullBatchStatistics.NONE);
        double[] expected = {1, -2, 0.5};
        for (int j = 0; j < 3; j++) {
            // Step 1: m = (1 - g1) a, v = (1 - g2) a^2; bias-corrected m^ = a, v^ = a^2.
            expected[j] -= eta * a[j] / (Math.abs(a[j]) + eps);
            // Step 2.
            double m = g1 * (1 - g1) * a[j] + (1 - g1) * b[j];
            double v = g2 * (1 - g2) * a[j] * a[j] + (1 - g2) * b[j] * b[j];
            double mHat = m / (1 - g1 * g1);
            double vHat = v / (1 - g2 * g2);
            expected[j] -= eta * mHat / (Math.sqrt(vHat) + eps);
        }
        assertArrayEquals(expected, theta.toDoubleVector(), 1e-15);
    }

    @Test
    void settingsOutsideTheTheoremsIntervalsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdaptiveStep(0.1, 1.5, 0.9, 5));
        assertEquals("kappa must be in (0.5, 1.5) to stay inside Eq. 35's interval, got 1.5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DiagonalPreconditioned(0.1, 0.5, 0.9, 0.999, 5));
        assertThrows(IllegalArgumentException.class, () -> new Adam(-1, 0.9, 0.999, 1e-8));
    }

    private static INDArray vector(double... values) {
        return Nd4j.createFromArray(values).castTo(DataType.DOUBLE);
    }
}
