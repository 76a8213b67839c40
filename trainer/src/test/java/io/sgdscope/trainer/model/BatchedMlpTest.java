package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The batched ensemble network computes, run for run, what {@link Mlp} (itself checked against plain
 * Java and finite differences in {@link MlpTest}) computes for each run's theta alone, in float64.
 */
class BatchedMlpTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final Dataset DATA = GaussK.generate(GaussKSettings.GAUSS_10);
    private static final int RUNS = 6;
    private static final int M = 5;

    private static double[][] thetas(long seed, Initialization init) {
        SplittableRandom random = new SplittableRandom(seed);
        double[][] thetas = new double[RUNS][];
        for (int r = 0; r < RUNS; r++) {
            thetas[r] = init.draw(GAUSS_10, random.split());
        }
        return thetas;
    }

    private static BatchedMlp ensemble(double[][] thetas, Precision precision) {
        BatchedMlp batched = new BatchedMlp(GAUSS_10, precision, thetas.length);
        for (int r = 0; r < thetas.length; r++) {
            batched.setParameters(r, thetas[r]);
        }
        return batched;
    }

    private static int[] indices(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] indices = new int[RUNS * M];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = random.nextInt(DATA.samples());
        }
        return indices;
    }

    private static void assertClose(double expected, double actual, double relative, String what) {
        double scale = Math.max(Math.abs(expected), 1e-300);
        assertTrue(Math.abs(expected - actual) <= relative * scale,
                what + ": expected " + expected + ", got " + actual);
    }

    @Test
    void parametersGoInAndOutInTheFlatLayoutOfMlp() {
        double[][] thetas = thetas(1, Initialization.STANDARD_NORMAL);
        BatchedMlp batched = ensemble(thetas, Precision.FLOAT64);
        for (int r = 0; r < RUNS; r++) {
            double[] back = batched.parametersAsDoubles(r);
            for (int i = 0; i < back.length; i++) {
                assertEquals(thetas[r][i], back[i], 0.0, "run " + r + " parameter " + i);
            }
        }
    }

    @Test
    void netsWithoutAndWithOneHiddenLayerAgreeWithMlpOverSeveralSteps() {
        // The layouts' edge cases: no hidden layer (softmax regression, no row of ones) and one hidden layer
        // (layer 0's row of ones feeds the logits' bias).
        for (MlpArchitecture architecture : new MlpArchitecture[] {MlpArchitecture.of(50, 10), MlpArchitecture.of(50, 7, 10)}) {
            SplittableRandom random = new SplittableRandom(21);
            double[][] thetas = new double[3][];
            BatchedMlp batched = new BatchedMlp(architecture, Precision.FLOAT64, thetas.length);
            Mlp[] singles = new Mlp[thetas.length];
            for (int r = 0; r < thetas.length; r++) {
                thetas[r] = Initialization.HE_NORMAL.draw(architecture, random.split());
                batched.setParameters(r, thetas[r]);
                singles[r] = new Mlp(architecture, Precision.FLOAT64);
                singles[r].setParameters(thetas[r]);
            }
            try {
                double[] loss = new double[thetas.length];
                double[] accuracy = new double[thetas.length];
                double[] minibatchLoss = new double[thetas.length];
                for (int step = 0; step < 3; step++) {
                    int[] indices = new int[thetas.length * M];
                    for (int i = 0; i < indices.length; i++) {
                        indices[i] = random.nextInt(DATA.samples());
                    }
                    batched.evaluate(DATA, loss, accuracy);
                    batched.lossAndGradient(DATA, indices, M, minibatchLoss);
                    for (int r = 0; r < thetas.length; r++) {
                        Evaluation expected = singles[r].evaluate(DATA);
                        String what = architecture.layers() + " run " + r + " step " + step;
                        assertClose(expected.loss(), loss[r], 1e-12, "loss of " + what);
                        assertEquals(expected.accuracy(), accuracy[r], 0.0, "accuracy of " + what);
                        int[] own = java.util.Arrays.copyOfRange(indices, r * M, (r + 1) * M);
                        assertClose(singles[r].lossAndGradient(DATA, own), minibatchLoss[r], 1e-12, "minibatch loss of " + what);
                        double[] gradient = singles[r].gradient().toDoubleVector();
                        double[] actual = batched.gradientAsDoubles(r);
                        for (int i = 0; i < gradient.length; i++) {
                            assertEquals(gradient[i], actual[i], 1e-12 * (1 + Math.abs(gradient[i])), what + " gradient " + i);
                        }
                        for (int i = 0; i < thetas[r].length; i++) {
                            thetas[r][i] -= 0.1 * gradient[i];
                        }
                        singles[r].setParameters(thetas[r]);
                    }
                    batched.step(0.1);
                    for (int r = 0; r < thetas.length; r++) {
                        double[] back = batched.parametersAsDoubles(r);
                        for (int i = 0; i < back.length; i++) {
                            assertEquals(thetas[r][i], back[i], 1e-12 * (1 + Math.abs(thetas[r][i])),
                                    architecture.layers() + " run " + r + " parameter " + i + " after step " + step);
                        }
                    }
                }
            } finally {
                for (Mlp single : singles) {
                    single.close();
                }
            }
        }
    }

    @Test
    void fullDataLossAndAccuracyOfEveryRunEqualThoseOfItsOwnMlp() {
        double[][] thetas = thetas(2, Initialization.STANDARD_NORMAL);   // N(0, I): losses in the hundreds
        BatchedMlp batched = ensemble(thetas, Precision.FLOAT64);
        double[] loss = new double[RUNS];
        double[] accuracy = new double[RUNS];
        batched.evaluate(DATA, loss, accuracy);
        for (int r = 0; r < RUNS; r++) {
            try (Mlp single = new Mlp(GAUSS_10, Precision.FLOAT64)) {
                single.setParameters(thetas[r]);
                Evaluation expected = single.evaluate(DATA);
                assertClose(expected.loss(), loss[r], 1e-12, "loss of run " + r);
                assertEquals(expected.accuracy(), accuracy[r], 0.0, "accuracy of run " + r);
            }
        }
    }

    @Test
    void minibatchLossesAndGradientsOfEveryRunEqualThoseOfItsOwnMlpOnItsOwnRows() {
        double[][] thetas = thetas(3, Initialization.HE_NORMAL);
        int[] indices = indices(4);
        BatchedMlp batched = ensemble(thetas, Precision.FLOAT64);
        double[] minibatchLoss = new double[RUNS];
        batched.lossAndGradient(DATA, indices, M, minibatchLoss);
        for (int r = 0; r < RUNS; r++) {
            try (Mlp single = new Mlp(GAUSS_10, Precision.FLOAT64)) {
                single.setParameters(thetas[r]);
                int[] own = java.util.Arrays.copyOfRange(indices, r * M, (r + 1) * M);
                double expectedLoss = single.lossAndGradient(DATA, own);
                assertClose(expectedLoss, minibatchLoss[r], 1e-12, "minibatch loss of run " + r);
                double[] expected = single.gradient().toDoubleVector();
                double[] actual = batched.gradientAsDoubles(r);
                double norm = 0;
                for (double g : expected) {
                    norm = Math.max(norm, Math.abs(g));
                }
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-12 * norm, "run " + r + " gradient " + i);
                }
            }
        }
    }

    @Test
    void gradientNormsDotsAndTheStepAreThoseOfTheFlatVectors() {
        double[][] thetas = thetas(5, Initialization.HE_NORMAL);
        BatchedMlp batched = ensemble(thetas, Precision.FLOAT64);
        double[] minibatchLoss = new double[RUNS];
        batched.lossAndGradient(DATA, indices(6), M, minibatchLoss);
        double[][] first = new double[RUNS][];
        for (int r = 0; r < RUNS; r++) {
            first[r] = batched.gradientAsDoubles(r);
        }
        batched.lossAndGradient(DATA, indices(7), M, minibatchLoss);
        double[] norm = new double[RUNS];
        double[] dot = new double[RUNS];
        batched.gradientStatistics(norm, dot);
        batched.step(0.1);
        for (int r = 0; r < RUNS; r++) {
            double[] second = batched.gradientAsDoubles(r);
            double expectedNormSq = 0;
            double expectedDot = 0;
            for (int i = 0; i < second.length; i++) {
                expectedNormSq += second[i] * second[i];
                expectedDot += second[i] * first[r][i];
            }
            assertClose(Math.sqrt(expectedNormSq), norm[r], 1e-12, "||g|| of run " + r);
            assertClose(expectedDot, dot[r], 1e-12, "g . g_prev of run " + r);
            double[] after = batched.parametersAsDoubles(r);
            for (int i = 0; i < after.length; i++) {
                assertEquals(thetas[r][i] - 0.1 * second[i], after[i], 1e-15, "run " + r + " parameter " + i);
            }
        }
    }

    @Test
    void distancesFromTheStartAreThoseOfTheFlatVectorsInBothPrecisions() {
        for (Precision precision : Precision.values()) {
            double[][] theta0 = thetas(8, Initialization.HE_NORMAL);
            double[][] elsewhere = thetas(9, Initialization.STANDARD_NORMAL);
            BatchedMlp batched = ensemble(theta0, precision);
            org.nd4j.linalg.api.ndarray.INDArray[] start = batched.copyOfParameters();
            batched.setParameters(start, 1, elsewhere[1]);              // a resumed run's theta_0, set afterwards
            double[] distance = new double[RUNS];
            batched.distancesFrom(start, distance);
            assertEquals(0.0, distance[0], 0.0, precision + ": theta_0 is its own start");
            batched.lossAndGradient(DATA, indices(10), M, new double[RUNS]);
            batched.step(0.3);
            batched.distancesFrom(start, distance);
            for (int r = 0; r < RUNS; r++) {
                double[] now = batched.parametersAsDoubles(r);
                double[] from = r == 1 ? elsewhere[1] : theta0[r];
                double squared = 0;                                      // dense float64 reference
                for (int i = 0; i < now.length; i++) {
                    double start0 = precision == Precision.FLOAT32 ? (float) from[i] : from[i];
                    squared += (now[i] - start0) * (now[i] - start0);
                }
                assertClose(Math.sqrt(squared), distance[r], 1e-12, precision + ": ||theta - theta_0|| of run " + r);
                assertTrue(distance[r] > 0, precision + ": run " + r + " moved");
            }
        }
    }

    @Test
    void theNormOfAHugeGradientIsFiniteWhereItsSumOfSquaresOverflows() {
        double[] huge = {3e200, -4e200, 0};
        assertClose(5e200, BatchedMlp.scaledNorm(huge), 1e-15, "norm");
        assertClose(5e-200, BatchedMlp.scaledNorm(new double[] {3e-200, 4e-200}), 1e-15, "norm");
        assertTrue(Double.isNaN(BatchedMlp.scaledNorm(new double[] {1, Double.NaN})));
        assertEquals(Double.POSITIVE_INFINITY, BatchedMlp.scaledNorm(new double[] {1, Double.NEGATIVE_INFINITY}));
        assertEquals(0.0, BatchedMlp.scaledNorm(new double[] {0, 0}));
    }

    @Test
    void aRunWithNonFiniteParametersLeavesTheOtherRunsUntouched() {
        double[][] thetas = thetas(8, Initialization.HE_NORMAL);
        BatchedMlp clean = ensemble(thetas, Precision.FLOAT64);
        thetas[2][17] = Double.NaN;
        thetas[4][1000] = Double.POSITIVE_INFINITY;
        BatchedMlp poisoned = ensemble(thetas, Precision.FLOAT64);
        double[] cleanLoss = new double[RUNS];
        double[] poisonedLoss = new double[RUNS];
        clean.evaluate(DATA, cleanLoss, null);
        poisoned.evaluate(DATA, poisonedLoss, null);
        double[] cleanBatch = new double[RUNS];
        double[] poisonedBatch = new double[RUNS];
        clean.lossAndGradient(DATA, indices(9), M, cleanBatch);
        poisoned.lossAndGradient(DATA, indices(9), M, poisonedBatch);
        for (int r = 0; r < RUNS; r++) {
            if (r == 2 || r == 4) {
                assertTrue(!Double.isFinite(poisonedLoss[r]), "run " + r + " has a non-finite loss");
            } else {
                assertEquals(cleanLoss[r], poisonedLoss[r], 0.0, "loss of run " + r);
                assertEquals(cleanBatch[r], poisonedBatch[r], 0.0, "minibatch loss of run " + r);
            }
        }
    }

    @Test
    void float32AgreesWithFloat64ToSinglePrecision() {
        double[][] thetas = thetas(10, Initialization.HE_NORMAL);
        double[] loss64 = new double[RUNS];
        double[] loss32 = new double[RUNS];
        ensemble(thetas, Precision.FLOAT64).evaluate(DATA, loss64, null);
        ensemble(thetas, Precision.FLOAT32).evaluate(DATA, loss32, null);
        for (int r = 0; r < RUNS; r++) {
            assertClose(loss64[r], loss32[r], 1e-5, "float32 loss of run " + r);
        }
    }
}
