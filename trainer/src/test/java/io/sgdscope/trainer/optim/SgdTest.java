package io.sgdscope.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SgdTest {

    @Test
    void oneStepIsThetaMinusEtaTimesTheGradient() {
        SplittableRandom random = new SplittableRandom(1);
        double[] theta = new double[1150];
        double[] g = new double[1150];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = random.nextGaussian();
            g[i] = random.nextGaussian();
        }
        INDArray parameters = Nd4j.createFromArray(theta.clone());
        new Sgd(0.1).step(parameters, Nd4j.createFromArray(g));
        double[] expected = new double[theta.length];
        for (int i = 0; i < theta.length; i++) {
            expected[i] = theta[i] - 0.1 * g[i];                     // Eq. 8
        }
        assertArrayEquals(expected, parameters.toDoubleVector(), 1e-15);
    }

    @Test
    void normAndCosineOfStochasticGradientsMatchTheirDefinitions() {
        double[] a = {3, 0, 4};
        double[] b = {0, 2, 0};
        double[] c = {-6, 0, -8};
        INDArray ga = Nd4j.createFromArray(a);
        assertEquals(5.0, StochasticGradients.norm(ga), 1e-15);
        assertEquals(0.0, StochasticGradients.cosine(ga, 5, Nd4j.createFromArray(b), 2), 1e-15);
        assertEquals(-1.0, StochasticGradients.cosine(ga, 5, Nd4j.createFromArray(c), 10), 1e-15);
        assertNull(StochasticGradients.cosine(ga, 5, Nd4j.zeros(3), 0));
    }

    @Test
    void minibatchesAreDrawnUniformlyWithReplacement() {
        MinibatchSampler sampler = new MinibatchSampler(10, 5, new SplittableRandom(3));
        int[] counts = new int[10];
        int batchesWithRepeats = 0;
        int batches = 20_000;
        for (int b = 0; b < batches; b++) {
            int[] batch = sampler.next();
            assertEquals(5, batch.length);
            boolean[] seen = new boolean[10];
            boolean repeat = false;
            for (int i : batch) {
                assertTrue(i >= 0 && i < 10);
                counts[i]++;
                repeat |= seen[i];
                seen[i] = true;
            }
            if (repeat) {
                batchesWithRepeats++;
            }
        }
        // 100,000 draws: each count is Binomial(1e5, 0.1), sd 95; tolerance 500 (5 sd).
        for (int count : counts) {
            assertEquals(10_000, count, 500);
        }
        // With replacement, P(some repeat in 5 of 10) = 1 - 10*9*8*7*6 / 10^5 = 0.6976; sd of the count 65.
        assertEquals(0.6976 * batches, batchesWithRepeats, 400);
    }

    @Test
    void sameSeedDrawsTheSameMinibatches() {
        MinibatchSampler a = new MinibatchSampler(100, 5, new SplittableRandom(8));
        MinibatchSampler b = new MinibatchSampler(100, 5, new SplittableRandom(8));
        for (int t = 0; t < 50; t++) {
            assertArrayEquals(a.next().clone(), b.next());
        }
    }

    @Test
    void aNonPositiveLearningRateIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sgd(0));
        assertEquals("learning rate must be a finite number > 0, got 0.0", e.getMessage());
    }
}
