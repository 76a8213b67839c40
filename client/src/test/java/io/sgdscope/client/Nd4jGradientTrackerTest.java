package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** ND4J's native float64 reductions against the plain-Java tracker on the same values. */
class Nd4jGradientTrackerTest {

    @Test
    void nativeStatisticsEqualThoseOfThePlainTrackerAndTheArraysMayChangeAfterwards() {
        int p = 500;
        SplittableRandom random = new SplittableRandom(5);
        GradientTracker plain = new GradientTracker(p);
        Nd4jGradientTracker nd4j = new Nd4jGradientTracker(p);
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, 1, p);
        INDArray gradient = Nd4j.zeros(DataType.DOUBLE, 1, p);
        for (int t = 0; t < 4; t++) {
            double[] thetaValues = random.doubles(p).toArray();
            double[] summed = random.doubles(p, -1, 1).toArray();
            theta.assign(Nd4j.createFromArray(thetaValues).reshape(1, p));   // the same buffers, changed in place
            gradient.assign(Nd4j.createFromArray(summed).reshape(1, p));
            double[] mean = new double[p];
            for (int i = 0; i < p; i++) {
                mean[i] = summed[i] / 5;
            }
            GradientStatistics want = plain.next(thetaValues, mean);
            GradientStatistics got = nd4j.next(theta, gradient, 1.0 / 5);
            assertEquals(want.sgNorm(), got.sgNorm(), 1e-13 * want.sgNorm());
            assertEquals(want.distanceFromStart(), got.distanceFromStart(), 1e-13 * Math.max(1, want.distanceFromStart()));
            if (t == 0) {
                assertNull(got.sgCosPrev());
            } else {
                assertEquals(want.sgCosPrev(), got.sgCosPrev(), 1e-13);
            }
        }
    }

    @Test
    void float32ArraysAreWidenedBeforeTheReductions() {
        float[] g0 = {3f, 4f, 0.1f};
        float[] g1 = {4f, 3f, -0.2f};
        GradientTracker plain = new GradientTracker(3);
        Nd4jGradientTracker nd4j = new Nd4jGradientTracker(3);
        plain.next(new float[3], g0);
        nd4j.next(Nd4j.zeros(DataType.FLOAT, 3), Nd4j.createFromArray(g0), 1.0);
        GradientStatistics want = plain.next(new float[] {1f, 2f, 2f}, g1);
        GradientStatistics got = nd4j.next(Nd4j.createFromArray(new float[] {1f, 2f, 2f}), Nd4j.createFromArray(g1), 1.0);
        assertEquals(want.sgNorm(), got.sgNorm(), 1e-15 * want.sgNorm());
        assertEquals(want.sgCosPrev(), got.sgCosPrev(), 1e-15);
        assertEquals(3.0, got.distanceFromStart(), 1e-15);
    }

    @Test
    void anArrayOfAnotherLengthIsRefused() {
        Nd4jGradientTracker tracker = new Nd4jGradientTracker(3);
        assertThrows(IllegalArgumentException.class,
                () -> tracker.next(Nd4j.zeros(DataType.DOUBLE, 3), Nd4j.zeros(DataType.DOUBLE, 4), 1.0));
    }
}
