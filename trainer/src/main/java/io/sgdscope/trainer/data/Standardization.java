package io.sgdscope.trainer.data;

/**
 * Per-feature standardisation with the training set's own statistics: x'_ij = (x_ij - mean_j) / std_j,
 * std the population standard deviation (divisor n, as scikit-learn's StandardScaler). A feature
 * that is constant on the training set is only centred. A held-out set is standardised with the
 * training set's statistics ({@link #fit} then {@link Scaler#apply}), never its own.
 */
public final class Standardization {

    private Standardization() {}

    /**
     * The per-feature statistics of a training set.
     *
     * @param mean mean_j of each feature
     * @param std  std_j of each feature (1 where the feature is constant)
     */
    public record Scaler(double[] mean, double[] std) {

        /** A standardised copy of the [n][d] rows, with these statistics; the input is left alone. */
        public double[][] apply(double[][] rows) {
            int d = mean.length;
            double[][] result = new double[rows.length][d];
            for (int i = 0; i < rows.length; i++) {
                for (int j = 0; j < d; j++) {
                    result[i][j] = (rows[i][j] - mean[j]) / std[j];
                }
            }
            return result;
        }
    }

    /** The statistics of the [n][d] rows. */
    public static Scaler fit(double[][] rows) {
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
        return new Scaler(mean, std);
    }

    /** A standardised copy of the [n][d] rows with their own statistics; the input is left alone. */
    public static double[][] standardize(double[][] rows) {
        return fit(rows).apply(rows);
    }
}
