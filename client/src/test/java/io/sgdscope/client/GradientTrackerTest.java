package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GradientTrackerTest {

    @Test
    void normCosineAndDistanceMatchClosedFormsOnPythagoreanVectors() {
        GradientTracker tracker = new GradientTracker(3);
        GradientStatistics first = tracker.next(new double[] {1, 1, 1}, new double[] {3, 4, 0});
        assertEquals(5.0, first.sgNorm());
        assertNull(first.sgCosPrev(), "no g_{t-1} at t = 0");
        assertEquals(0.0, first.distanceFromStart());

        GradientStatistics second = tracker.next(new double[] {2, 3, 3}, new double[] {4, 3, 0});
        assertEquals(5.0, second.sgNorm());
        assertEquals(24.0 / 25.0, second.sgCosPrev(), 1e-15, "(3,4).(4,3) / 25");
        assertEquals(3.0, second.distanceFromStart(), 1e-15, "|(1,2,2)| = 3");
    }

    @Test
    void aZeroGradientHasNoCosineWithItsNeighbours() {
        GradientTracker tracker = new GradientTracker(2);
        tracker.next(new double[2], new double[] {1, 0});
        assertNull(tracker.next(new double[2], new double[] {0, 0}).sgCosPrev());
        assertNull(tracker.next(new double[2], new double[] {0, 1}).sgCosPrev(), "g_{t-1} was zero");
        assertEquals(0.0, tracker.next(new double[2], new double[] {1, 0}).sgCosPrev(), 0.0);
    }

    @Test
    void randomVectorsMatchAnExactDecimalReference() {
        int p = 1000;
        SplittableRandom random = new SplittableRandom(7);
        double[] theta0 = random.doubles(p).toArray();
        double[] theta1 = random.doubles(p).toArray();
        double[] g0 = random.doubles(p, -1, 1).toArray();
        double[] g1 = random.doubles(p, -1, 1).toArray();
        GradientTracker tracker = new GradientTracker(p);
        tracker.next(theta0, g0);
        GradientStatistics statistics = tracker.next(theta1, g1);

        MathContext mc = MathContext.DECIMAL128;
        BigDecimal norm0 = BigDecimal.ZERO;
        BigDecimal norm1 = BigDecimal.ZERO;
        BigDecimal dot = BigDecimal.ZERO;
        BigDecimal distance = BigDecimal.ZERO;
        for (int i = 0; i < p; i++) {
            BigDecimal a = new BigDecimal(g0[i]);
            BigDecimal b = new BigDecimal(g1[i]);
            BigDecimal d = new BigDecimal(theta1[i]).subtract(new BigDecimal(theta0[i]));
            norm0 = norm0.add(a.multiply(a), mc);
            norm1 = norm1.add(b.multiply(b), mc);
            dot = dot.add(a.multiply(b), mc);
            distance = distance.add(d.multiply(d), mc);
        }
        double expectedNorm = norm1.sqrt(mc).doubleValue();
        double expectedCos = dot.divide(norm0.sqrt(mc).multiply(norm1.sqrt(mc), mc), mc).doubleValue();
        assertEquals(expectedNorm, statistics.sgNorm(), 1e-13 * expectedNorm);
        assertEquals(expectedCos, statistics.sgCosPrev(), 1e-13);
        assertEquals(distance.sqrt(mc).doubleValue(), statistics.distanceFromStart(), 1e-13);
    }

    @Test
    void float32ArraysGiveTheStatisticsOfTheirWidenedValues() {
        float[] theta = {0.1f, 0.2f, 0.3f};
        float[] g0 = {0.7f, -0.3f, 0.11f};
        float[] g1 = {0.5f, 0.25f, -0.9f};
        GradientTracker narrow = new GradientTracker(3);
        GradientTracker wide = new GradientTracker(3);
        narrow.next(theta, g0);
        wide.next(new double[] {0.1f, 0.2f, 0.3f}, new double[] {0.7f, -0.3f, 0.11f});
        assertEquals(wide.next(new double[] {0.1f, 0.2f, 0.3f}, new double[] {0.5f, 0.25f, -0.9f}),
                narrow.next(theta, g1), "sums in float64 over exactly widened values");
    }

    @Test
    void anArrayOfAnotherLengthIsRefusedInOneLine() {
        GradientTracker tracker = new GradientTracker(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tracker.next(new double[3], new double[2]));
        assertEquals("the gradient array has 2 values, the run has p = 3", e.getMessage());
    }
}
