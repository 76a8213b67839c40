package io.sgdscope.analysis.report;

import java.util.Arrays;

/**
 * The per-iteration scalars of one run that the figures need, as growable primitive arrays indexed by
 * iteration (NaN where a value is missing): compact enough for 10,000 runs x 400 iterations.
 */
final class RunSeries {

    private double[] loss = new double[0];
    private double[] sgNorm = new double[0];
    private double[] sgCosPrev = new double[0];
    private int length;

    void put(int iteration, double lossValue, double sgNormValue, double sgCosPrevValue) {
        if (iteration < 0) {
            return;
        }
        ensure(iteration + 1);
        loss[iteration] = lossValue;
        sgNorm[iteration] = sgNormValue;
        sgCosPrev[iteration] = sgCosPrevValue;
        length = Math.max(length, iteration + 1);
    }

    int length() {
        return length;
    }

    double loss(int t) {
        return t < length ? loss[t] : Double.NaN;
    }

    double sgNorm(int t) {
        return t < length ? sgNorm[t] : Double.NaN;
    }

    double sgCosPrev(int t) {
        return t < length ? sgCosPrev[t] : Double.NaN;
    }

    /** Delta_t(f) = f(theta_{t+1}) - f(theta_t) (Eq. 22); NaN when either is missing. */
    double lossChange(int t) {
        return t + 1 < length ? loss[t + 1] - loss[t] : Double.NaN;
    }

    private void ensure(int size) {
        if (size <= loss.length) {
            return;
        }
        int capacity = Math.max(size, Math.max(16, loss.length * 2));
        loss = grow(loss, capacity);
        sgNorm = grow(sgNorm, capacity);
        sgCosPrev = grow(sgCosPrev, capacity);
    }

    private static double[] grow(double[] values, int capacity) {
        int old = values.length;
        double[] grown = Arrays.copyOf(values, capacity);
        Arrays.fill(grown, old, capacity, Double.NaN);
        return grown;
    }
}
