package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.DenseCurvature;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.PlainJavaGradients;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.optim.MinibatchSampler;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The batched curvature of a block of runs against references that share none of its code: each run's Gram matrix
 * against inner products of explicit per-sample gradients written out in plain double loops
 * ({@link PlainJavaGradients}), and each run's H_f v against the dense Hessian of that run alone
 * ({@link DenseCurvature} over the per-run engine's {@link NetworkCurvature}) and against central finite differences
 * of the plain-Java gradient. Gauss-10 (layers [50, 10, 30, 10], p = 1150) on 60 samples, 3 runs each 25 SGD steps
 * from its own he-normal start, float64. M_t v against sums over those explicit per-sample gradients, H_p v against
 * the per-run engine's M_t v - H_f v.
 */
class BatchedCurvatureTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final int RUNS = 3;
    private static Dataset data;
    private static BatchedMlp model;
    private static BatchedCurvature curvature;
    private static double[][] features;

    @BeforeAll
    static void setUp() {
        data = GaussK.generate(new GaussKSettings(60, 50, 10, 0.0, 3L, true));
        features = data.features().toDoubleMatrix();
        model = new BatchedMlp(GAUSS_10, Precision.FLOAT64, RUNS);
        MinibatchSampler[] samplers = new MinibatchSampler[RUNS];
        for (int r = 0; r < RUNS; r++) {
            SplittableRandom random = new SplittableRandom(100 + r);
            model.setParameters(r, Initialization.HE_NORMAL.draw(GAUSS_10, random.split()));
            samplers[r] = new MinibatchSampler(data.samples(), 5, random.split());
        }
        int[] indices = new int[RUNS * 5];
        for (int t = 0; t < 25; t++) {
            for (int r = 0; r < RUNS; r++) {
                System.arraycopy(samplers[r].next(), 0, indices, r * 5, 5);
            }
            model.evaluate(data, new double[RUNS], null);
            model.lossAndGradient(data, indices, 5, new double[RUNS]);
            model.step(0.1);
        }
        curvature = new BatchedCurvature(model, data);
        curvature.freeze();
    }

    @Test
    void eachRunsGramMatrixIsTheInnerProductsOfItsExplicitSampleGradients() {
        int n = data.samples();
        double[] grams = new double[RUNS * n * n];
        curvature.sampleGrams(0, RUNS, grams);
        double[] one = new double[n * n];
        curvature.sampleGrams(1, 2, one);                                         // a sub-block: run 1 alone
        for (int r = 0; r < RUNS; r++) {
            double[][] g = PlainJavaGradients.sampleGradients(GAUSS_10.layers(), model.parametersAsDoubles(r), features,
                    data.labels());
            double error = 0;
            double scale = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int q = 0; q < g[i].length; q++) {
                        expected += g[i][q] * g[j][q];
                    }
                    double actual = grams[r * n * n + i * n + j];
                    error = Math.max(error, Math.abs(actual - expected));
                    scale = Math.max(scale, Math.abs(expected));
                    if (r == 1) {
                        assertTrue(one[i * n + j] == actual, "run 1 alone gives the same Gram matrix");
                    }
                }
            }
            assertTrue(scale > 1e-6, "run " + r + " has non-zero sample gradients");
            assertTrue(error <= 1e-12 * scale, "run " + r + ": Gram matrix off by " + error + " of " + scale);
        }
    }

    @Test
    void eachRunsHessianVectorProductIsItsDenseHessianTimesTheVectorAndTheFiniteDifferenceOfItsGradient() {
        int p = GAUSS_10.parameterCount();
        double[] v = new double[RUNS * p];
        SplittableRandom random = new SplittableRandom(9);
        // A unit direction per run, zero on the biases of layers 1 and 2: a sample whose first layer is all dead
        // has z_2 = b_2, exactly 0 where b_2 never moved, a kink of relu that finite differences would straddle.
        java.util.Set<Integer> hiddenBiases = new java.util.HashSet<>();
        for (int l = 1; l < GAUSS_10.depth(); l++) {
            for (int j = 0; j < GAUSS_10.fanOut(l); j++) {
                hiddenBiases.add(GAUSS_10.biasOffset(l) + j);
            }
        }
        for (int r = 0; r < RUNS; r++) {
            double norm = 0;
            for (int i = r * p; i < (r + 1) * p; i++) {
                v[i] = hiddenBiases.contains(i - r * p) ? 0 : random.nextGaussian();
                norm += v[i] * v[i];
            }
            for (int i = r * p; i < (r + 1) * p; i++) {
                v[i] /= Math.sqrt(norm);
            }
        }
        double[] hv = new double[RUNS * p];
        curvature.hessianTimes(v, hv);
        for (int r = 0; r < RUNS; r++) {
            double[] theta = model.parametersAsDoubles(r);
            double[] direction = java.util.Arrays.copyOfRange(v, r * p, (r + 1) * p);
            double[] actual = java.util.Arrays.copyOfRange(hv, r * p, (r + 1) * p);
            double[] dense;
            try (NetworkCurvature net = NetworkCurvature.classifier(GAUSS_10, Nd4j.createFromArray(theta), data.features(),
                    data.labels(), DataType.DOUBLE)) {
                INDArray h = DenseCurvature.matrix(net.hessian());
                dense = h.mmul(Nd4j.createFromArray(direction).reshape(p, 1)).toDoubleVector();
            }
            assertTrue(relativeError(actual, dense) <= 1e-11, "run " + r + ": H v against the dense H, relative "
                    + relativeError(actual, dense));
            double eps = 1e-6;
            double[] plus = PlainJavaGradients.gradient(GAUSS_10.layers(), shifted(theta, direction, eps), features,
                    data.labels());
            double[] minus = PlainJavaGradients.gradient(GAUSS_10.layers(), shifted(theta, direction, -eps), features,
                    data.labels());
            double[] difference = new double[p];
            for (int j = 0; j < p; j++) {
                difference[j] = (plus[j] - minus[j]) / (2 * eps);
            }
            assertTrue(relativeError(actual, difference) <= 1e-5, "run " + r + ": H v against finite differences, "
                    + "relative " + relativeError(actual, difference));
        }
    }

    @Test
    void eachRunsSecondMomentAndPredictionHessianProductsAreItsSampleGradientsAndThePerRunEnginesMMinusH() {
        int p = GAUSS_10.parameterCount();
        int n = data.samples();
        double[] v = new double[RUNS * p];
        SplittableRandom random = new SplittableRandom(13);
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        double[] mv = new double[RUNS * p];
        double[] hpv = new double[RUNS * p];
        curvature.secondMomentTimes(v, mv);
        curvature.predictionHessianTimes(v, hpv);
        double[] maskedM = new double[RUNS * p];
        double[] maskedHp = new double[RUNS * p];
        boolean[] runs = {true, false, true};                                   // run 1 converged: skipped
        curvature.secondMomentTimes(v, maskedM, runs);
        curvature.predictionHessianTimes(v, maskedHp, runs);
        for (int r = 0; r < RUNS; r++) {
            double[] theta = model.parametersAsDoubles(r);
            double[] direction = java.util.Arrays.copyOfRange(v, r * p, (r + 1) * p);
            // M v = (1/n) sum_i g_i (g_i . v) (Eq. 7) from explicit per-sample gradients in plain double loops.
            double[][] g = PlainJavaGradients.sampleGradients(GAUSS_10.layers(), theta, features, data.labels());
            double[] expectedM = new double[p];
            for (int i = 0; i < n; i++) {
                double gv = 0;
                for (int q = 0; q < p; q++) {
                    gv += g[i][q] * direction[q];
                }
                for (int q = 0; q < p; q++) {
                    expectedM[q] += g[i][q] * gv / n;
                }
            }
            double[] expectedHp;
            try (NetworkCurvature net = NetworkCurvature.classifier(GAUSS_10, Nd4j.createFromArray(theta), data.features(),
                    data.labels(), DataType.DOUBLE)) {
                INDArray out = Nd4j.create(DataType.DOUBLE, p);
                net.predictionHessianTimes(Nd4j.createFromArray(direction), out);                 // Eq. 12
                expectedHp = out.toDoubleVector();
            }
            double[] actualM = java.util.Arrays.copyOfRange(mv, r * p, (r + 1) * p);
            double[] actualHp = java.util.Arrays.copyOfRange(hpv, r * p, (r + 1) * p);
            assertTrue(relativeError(actualM, expectedM) <= 1e-12, "run " + r + ": M v against the sample gradients, "
                    + "relative " + relativeError(actualM, expectedM));
            assertTrue(relativeError(actualHp, expectedHp) <= 1e-12, "run " + r + ": H_p v against the per-run "
                    + "engine's M v - H v, relative " + relativeError(actualHp, expectedHp));
            if (runs[r]) {
                assertTrue(java.util.Arrays.equals(actualM, java.util.Arrays.copyOfRange(maskedM, r * p, (r + 1) * p))
                        && java.util.Arrays.equals(actualHp, java.util.Arrays.copyOfRange(maskedHp, r * p, (r + 1) * p)),
                        "run " + r + ": the same products when another run is skipped");
            }
        }
    }

    private static double[] shifted(double[] theta, double[] v, double eps) {
        double[] out = theta.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += eps * v[i];
        }
        return out;
    }

    private static double relativeError(double[] actual, double[] expected) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(difference / norm);
    }
}
