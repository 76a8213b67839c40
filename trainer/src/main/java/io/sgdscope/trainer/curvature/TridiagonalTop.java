package io.sgdscope.trainer.curvature;

/**
 * The largest eigenvalue of a symmetric tridiagonal matrix T (Lanczos' T_k) and the last entry of its unit
 * eigenvector, without T's full eigendecomposition: what {@link GradientMoments#largestEigenvalue}'s convergence
 * test needs (the Ritz residual beta_k |s_k|), in O(k) per bisection step instead of the O(k^3) of a QL with
 * eigenvectors. In float64.
 *
 * <p>The eigenvalue by bisection on Sturm counts (the number of negative pivots of the LDL^T factorisation of
 * T - x I is the number of eigenvalues below x) within T's Gershgorin interval, down to a few ulps; the eigenvector
 * by two steps of inverse iteration at that value (Gaussian elimination with partial pivoting of the tridiagonal
 * T - theta I, a zero pivot replaced by eps ||T||), normalised.
 *
 * @param value     lambda_max(T)
 * @param lastEntry the last entry of a unit eigenvector of {@code value} (its sign is arbitrary)
 */
record TridiagonalTop(double value, double lastEntry) {

    /**
     * @param alpha the diagonal, m entries used
     * @param beta  the off-diagonal, m - 1 entries used (beta[i] couples rows i and i + 1)
     * @param m     the order, at least 1; every entry finite
     */
    static TridiagonalTop of(double[] alpha, double[] beta, int m) {
        if (m < 1) {
            throw new IllegalArgumentException("a tridiagonal matrix needs order >= 1, got " + m);
        }
        if (m == 1) {
            return new TridiagonalTop(alpha[0], 1);
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double scale = 0;
        for (int i = 0; i < m; i++) {                                      // Gershgorin discs
            double radius = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < m - 1 ? Math.abs(beta[i]) : 0);
            lo = Math.min(lo, alpha[i] - radius);
            hi = Math.max(hi, alpha[i] + radius);
            scale = Math.max(scale, Math.abs(alpha[i]) + radius);
        }
        double tiny = Math.max(Double.MIN_NORMAL, 1e-300 + Math.ulp(scale));
        for (int iteration = 0; iteration < 200 && hi - lo > 2 * Math.ulp(Math.max(Math.abs(lo), Math.abs(hi))); iteration++) {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) {
                break;
            }
            if (below(alpha, beta, m, mid, tiny) == m) {                    // every eigenvalue below mid
                hi = mid;
            } else {
                lo = mid;
            }
        }
        double theta = 0.5 * (lo + hi);
        return new TridiagonalTop(theta, lastEntry(alpha, beta, m, theta, tiny));
    }

    /** How many eigenvalues of T lie below x: the negative pivots d_i = alpha_i - x - beta_{i-1}^2 / d_{i-1}. */
    private static int below(double[] alpha, double[] beta, int m, double x, double tiny) {
        int count = 0;
        double d = alpha[0] - x;
        for (int i = 0; ; i++) {
            if (d == 0) {
                d = -tiny;
            }
            if (d < 0) {
                count++;
            }
            if (i + 1 == m) {
                return count;
            }
            d = alpha[i + 1] - x - beta[i] * beta[i] / d;
        }
    }

    /** Two steps of inverse iteration on T - theta I from the all-ones vector: the unit eigenvector's last entry. */
    private static double lastEntry(double[] alpha, double[] beta, int m, double theta, double tiny) {
        double[] d = new double[m];                                        // U's diagonal
        double[] up = new double[m];                                       // U's first super-diagonal
        double[] up2 = new double[m];                                      // U's second (from row swaps)
        double[] low = new double[m];                                      // L's multipliers
        boolean[] swapped = new boolean[m];
        for (int i = 0; i < m; i++) {
            d[i] = alpha[i] - theta;
            up[i] = i < m - 1 ? beta[i] : 0;
        }
        for (int i = 0; i < m - 1; i++) {
            double sub = beta[i];                                          // row i + 1's entry below d[i]
            if (Math.abs(d[i]) >= Math.abs(sub)) {
                if (d[i] == 0) {
                    d[i] = tiny;
                }
                low[i] = sub / d[i];
                d[i + 1] -= low[i] * up[i];
            } else {                                                       // swap rows i and i + 1
                double f = d[i] / sub;
                double below = d[i + 1];
                d[i] = sub;
                low[i] = f;
                d[i + 1] = up[i] - f * below;
                up[i] = below;
                if (i + 1 < m - 1) {
                    up2[i] = up[i + 1];
                    up[i + 1] = -f * up[i + 1];
                }
                swapped[i] = true;
            }
        }
        if (d[m - 1] == 0) {
            d[m - 1] = tiny;
        }
        double[] x = new double[m];
        java.util.Arrays.fill(x, 1.0);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < m - 1; i++) {                              // L y = P x
                if (swapped[i]) {
                    double t = x[i];
                    x[i] = x[i + 1];
                    x[i + 1] = t - low[i] * x[i];
                } else {
                    x[i + 1] -= low[i] * x[i];
                }
            }
            for (int i = m - 1; i >= 0; i--) {                             // U x = y
                double s = x[i];
                if (i + 1 < m) {
                    s -= up[i] * x[i + 1];
                }
                if (i + 2 < m) {
                    s -= up2[i] * x[i + 2];
                }
                x[i] = s / d[i];
            }
            double largest = 0;
            for (double v : x) {
                largest = Math.max(largest, Math.abs(v));
            }
            for (int i = 0; i < m; i++) {                                  // rescale: no overflow next round
                x[i] /= largest;
            }
        }
        double norm = 0;
        for (double v : x) {
            norm += v * v;
        }
        return x[m - 1] / Math.sqrt(norm);
    }
}
