package io.sgdscope.trainer.data;

/**
 * Per-feature standardisation with the training set's own statistics: x'_ij = (x_ij - mean_j) / std_j,
 * std the population standard deviation (divisor n, as scikit-learn's StandardScaler). A feature
 * that is constant on the training set is only centred.
 */
public final class Standardization {

    private Standardization() {}

    /** A standardised copy of the [n][d] rows; the input is left alone. */
    public static double[][] standardize(double[][] rows) {
        int n = rows.length;
        int d = rows[0].length;
        double[] mean = new double[d];
        for (double[] x : rows) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        // Two-pass variance: no cancellation for features far from 0 (centres reach +-10).
        double[] std = new double[d];
        for (double[] x : rows) {
            for (int j = 0; j < d; j++) {
                double centred = x[j] - mean[j];
                std[j] += centred * centred;
            }
        }
        for (int j = 0; j < d; j++) {
            std[j] = Math.sqrt(std[j] / n);
            if (std[j] == 0) {
                std[j] = 1;
            }
        }
        double[][] result = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                result[i][j] = (rows[i][j] - mean[j]) / std[j];
            }
        }
        return result;
    }
}
