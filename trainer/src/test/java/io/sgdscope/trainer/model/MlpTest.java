package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MlpTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final Dataset DATA = GaussK.generate(GaussKSettings.GAUSS_10);
    private static final double[][] X = rows(DATA);

    private final Mlp model = new Mlp(GAUSS_10, Precision.FLOAT64);

    @AfterEach
    void close() {
        model.close();
    }

    @Test
    void parameterCountIs1150ForGauss10And902ForGauss2AsInTable2() {
        assertEquals(1150, GAUSS_10.parameterCount());
        assertEquals(1150, model.parameters().length());
        assertEquals(902, MlpArchitecture.of(50, 10, 30, 2).parameterCount());
        // (50 + 1) * 10 + (10 + 1) * 30 + (30 + 1) * 10, layer by layer.
        assertEquals(510, GAUSS_10.weightOffset(1));
        assertEquals(840, GAUSS_10.weightOffset(2));
        assertEquals(500, GAUSS_10.biasOffset(0));
    }

    @Test
    void parameterViewsAreTheFlatVectorInLayerOrderWeightsRowMajorThenBiases() {
        double[] theta = new double[1150];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = i;
        }
        model.setParameters(theta);
        assertEquals(0.0, model.weights(0).getDouble(0, 0));
        assertEquals(1.0, model.weights(0).getDouble(0, 1));      // row-major: next column first
        assertEquals(10.0, model.weights(0).getDouble(1, 0));
        assertEquals(500.0, model.biases(0).getDouble(0));
        assertEquals(510.0, model.weights(1).getDouble(0, 0));
        assertEquals(1149.0, model.biases(2).getDouble(9));
        model.parameters().addi(1.0);                             // views follow the flat vector
        assertEquals(501.0, model.biases(0).getDouble(0));
    }

    @Test
    void lossEqualsAPlainJavaRecomputationToTwelveDigits() {
        for (Initialization init : Initialization.values()) {
            model.initialize(init, new SplittableRandom(7));
            double[] theta = model.parametersAsDoubles();
            double expected = PlainJavaMlp.loss(GAUSS_10.layers(), theta, X, DATA.labels());
            assertEquals(expected, model.loss(DATA), 1e-12 * Math.abs(expected), init.id());
            assertEquals(PlainJavaMlp.accuracy(GAUSS_10.layers(), theta, X, DATA.labels()), model.accuracy(DATA), 0.0);

            int[] batch = {3, 97, 3, 41, 0};
            double expectedBatch = PlainJavaMlp.loss(GAUSS_10.layers(), theta, X, DATA.labels(), batch);
            assertEquals(expectedBatch, model.loss(DATA, batch), 1e-12 * Math.abs(expectedBatch));
            assertEquals(expectedBatch, model.lossAndGradient(DATA, batch), 1e-12 * Math.abs(expectedBatch));
        }
    }

    @Test
    void lossStaysFiniteForHugeLogitsWhereANaiveSoftmaxOverflows() {
        // N(0, I) weights scaled up: logit gaps in the thousands; exp() of them overflows a naive softmax.
        model.initialize(Initialization.STANDARD_NORMAL, new SplittableRandom(3));
        model.parameters().muli(20);
        double[] theta = model.parametersAsDoubles();
        double expected = PlainJavaMlp.loss(GAUSS_10.layers(), theta, X, DATA.labels());
        assertTrue(expected > 700, "the check needs losses past exp's range, got " + expected);
        assertEquals(expected, model.loss(DATA), 1e-12 * expected);
    }

    @Test
    void gradientEqualsCentralFiniteDifferencesOfThePlainJavaLossInEveryLayer() {
        SplittableRandom random = new SplittableRandom(11);
        model.initialize(Initialization.HE_NORMAL, random);
        // Non-zero biases, so that their gradients are tested away from the special point 0.
        for (int l = 0; l < GAUSS_10.depth(); l++) {
            model.biases(l).addi(0.1);
        }
        double[] theta = model.parametersAsDoubles();
        int[] batch = {5, 17, 5, 88, 42, 63, 17};                  // with repeats, as drawn with replacement
        model.lossAndGradient(DATA, batch);
        double[] gradient = model.gradient().toDoubleVector();

        for (int l = 0; l < GAUSS_10.depth(); l++) {
            int checkedNonZero = 0;
            int weightStart = GAUSS_10.weightOffset(l);
            int biasStart = GAUSS_10.biasOffset(l);
            int biasEnd = biasStart + GAUSS_10.fanOut(l);
            int[] coordinates = new int[12];
            for (int c = 0; c < coordinates.length; c++) {
                coordinates[c] = c < 8 ? weightStart + random.nextInt(biasStart - weightStart)
                        : biasStart + random.nextInt(biasEnd - biasStart);
            }
            for (int i : coordinates) {
                double fd = centralDifference(theta, batch, i);
                // Truncation error O(h^2) ~ 1e-12 and rounding ~ 1e-16 * f / h ~ 1e-10 for h = 1e-6.
                assertEquals(fd, gradient[i], 1e-6 * Math.max(Math.abs(fd), Math.abs(gradient[i])) + 1e-9,
                        "layer " + l + " coordinate " + i);
                if (Math.abs(fd) > 1e-6) {
                    checkedNonZero++;
                }
            }
            assertTrue(checkedNonZero >= 3, "layer " + l + ": too few live coordinates checked (" + checkedNonZero + ")");
        }
    }

    @Test
    void gradientOfAFullBatchEqualsFiniteDifferencesForEveryBias() {
        // He-normal keeps f near ln 10, so the finite difference's rounding error (~1e-16 f / h) stays ~1e-10;
        // with N(0, I) f is in the hundreds and that error alone approaches the 1e-6 relative tolerance.
        model.initialize(Initialization.HE_NORMAL, new SplittableRandom(5));
        for (int l = 0; l < GAUSS_10.depth(); l++) {
            model.biases(l).assign(-0.05 + 0.1 * l);
        }
        double[] theta = model.parametersAsDoubles();
        int[] all = new int[DATA.samples()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        model.lossAndGradient(DATA, all);
        double[] gradient = model.gradient().toDoubleVector();
        for (int l = 0; l < GAUSS_10.depth(); l++) {
            for (int i = GAUSS_10.biasOffset(l); i < GAUSS_10.biasOffset(l) + GAUSS_10.fanOut(l); i++) {
                double fd = centralDifference(theta, all, i);
                assertEquals(fd, gradient[i], 1e-6 * Math.max(Math.abs(fd), Math.abs(gradient[i])) + 1e-9, "coordinate " + i);
            }
        }
    }

    @Test
    void heNormalDrawsZeroBiasesAndWeightsOfVarianceTwoOverFanIn() {
        model.initialize(Initialization.HE_NORMAL, new SplittableRandom(1));
        for (int l = 0; l < GAUSS_10.depth(); l++) {
            assertEquals(0.0, model.biases(l).amaxNumber().doubleValue(), 0.0);
        }
        // Layer 0 has 500 weights; the sample variance of N(0, s^2) has sd s^2 sqrt(2 / 500) = 6.3 % of s^2,
        // so 25 % is four standard deviations.
        double[] w = model.weights(0).dup().data().asDouble();
        double expected = 2.0 / 50;
        assertEquals(expected, meanSquare(w), 0.25 * expected);
    }

    @Test
    void standardNormalDrawsEveryParameterFromNZeroOne() {
        model.initialize(Initialization.STANDARD_NORMAL, new SplittableRandom(1));
        double[] theta = model.parametersAsDoubles();
        // 1150 draws: the mean square of N(0, 1) has sd sqrt(2 / 1150) = 0.042; 0.2 is about five sd.
        assertEquals(1.0, meanSquare(theta), 0.2);
        assertTrue(model.biases(2).amaxNumber().doubleValue() > 0);
    }

    @Test
    void sameSeedGivesTheSameInitialParameters() {
        model.initialize(Initialization.HE_NORMAL, new SplittableRandom(99));
        double[] first = model.parametersAsDoubles();
        model.initialize(Initialization.HE_NORMAL, new SplittableRandom(99));
        assertArrayEquals(first, model.parametersAsDoubles(), 0.0);
    }

    @Test
    void float32ModelAgreesWithFloat64ToSinglePrecision() {
        model.initialize(Initialization.HE_NORMAL, new SplittableRandom(4));
        int[] batch = {1, 2, 3, 4, 5};
        double loss64 = model.lossAndGradient(DATA, batch);
        double[] gradient64 = model.gradient().toDoubleVector();
        try (Mlp single = new Mlp(GAUSS_10, Precision.FLOAT32)) {
            single.setParameters(model.parametersAsDoubles());
            double loss32 = single.lossAndGradient(DATA, batch);
            assertEquals(loss64, loss32, 1e-5 * loss64);
            double[] gradient32 = single.gradient().toDoubleVector();
            assertEquals(norm(gradient64), norm(gradient32), 1e-4 * norm(gradient64));
            assertEquals(model.loss(DATA), single.loss(DATA), 1e-5 * model.loss(DATA));
        }
    }

    private double centralDifference(double[] theta, int[] batch, int coordinate) {
        double h = 1e-6;
        double[] plus = theta.clone();
        double[] minus = theta.clone();
        plus[coordinate] += h;
        minus[coordinate] -= h;
        List<Integer> layers = GAUSS_10.layers();
        return (PlainJavaMlp.loss(layers, plus, X, DATA.labels(), batch)
                - PlainJavaMlp.loss(layers, minus, X, DATA.labels(), batch)) / (2 * h);
    }

    private static double meanSquare(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v * v;
        }
        return s / values.length;
    }

    private static double norm(double[] values) {
        return Math.sqrt(meanSquare(values) * values.length);
    }

    static double[][] rows(Dataset data) {
        return data.features().toDoubleMatrix();
    }
}
