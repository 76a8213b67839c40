package io.sgdscope.analysis.report;

import java.util.Arrays;

/** Exact order statistics and moments of small samples (the values of all runs at one iteration). Float64. */
final class Statistics {

    private Statistics() {}

    /** The finite values, sorted ascending. */
    static double[] finiteSorted(double[] values, int count) {
        double[] finite = new double[count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (Double.isFinite(values[i])) {
                finite[n++] = values[i];
            }
        }
        double[] sorted = Arrays.copyOf(finite, n);
        Arrays.sort(sorted);
        return sorted;
    }

    /**
     * The q-quantile of sorted values with linear interpolation between order statistics (the
     * "type 7" definition of R and numpy's default); NaN for no values.
     */
    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double position = q * (sorted.length - 1);
        int below = (int) Math.floor(position);
        int above = Math.min(below + 1, sorted.length - 1);
        double weight = position - below;
        return sorted[below] + weight * (sorted[above] - sorted[below]);
    }

    /** Sample variance (divisor n - 1); NaN for fewer than two values. */
    static double variance(double[] values) {
        if (values.length < 2) {
            return Double.NaN;
        }
        double mean = 0;
        for (double v : values) {
            mean += v;
        }
        mean /= values.length;
        double squares = 0;
        for (double v : values) {
            squares += (v - mean) * (v - mean);
        }
        return squares / (values.length - 1);
    }
}
