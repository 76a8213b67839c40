package io.sgdscope.trainer.curvature;

/**
 * The per-sample loss l(z_i; y_i) on the network's outputs z_i = phi(theta; x_i) (k values), with
 * what curvature needs of it: the loss, its gradient in z (the per-sample output signal) and its
 * Hessian in z applied to a direction (for the R-operator). Rows are samples, row-major [n, k]
 * {@code double} blocks; everything here is plain float64 Java (k is small: 1 or the classes).
 *
 * <p>Three heads: the softmax cross-entropy of the classification nets (Eq. 10-11), and the two
 * closed-form references of Table 1: least squares with Gaussian noise (Example 1, Eq. 17) and
 * binary logistic regression (Example 2, Eq. 19).
 */
public interface OutputLoss {

    /** Number of outputs k the head expects. */
    int outputs();

    /**
     * Per-sample losses and output signals at the outputs {@code z} ([n, k] row-major).
     *
     * @param z       outputs, n x k
     * @param targets the n targets (class labels as 0..k-1, or real responses / {0, 1} labels)
     * @param signal  receives d l(z_i; y_i) / d z_i, n x k, NOT divided by n
     * @param state   receives what {@link #hessianTimes} needs (probabilities), n x k
     * @return the summed loss over the n samples
     */
    double lossAndSignal(double[] z, double[] targets, int n, double[] signal, double[] state);

    /** out_i = (d^2 l / d z^2 at z_i) rz_i for every row, using the state of {@link #lossAndSignal}. */
    void hessianTimes(double[] state, double[] rz, int n, double[] out);

    /** Softmax cross-entropy over k classes, f_i = -log p(y_i | x_i) (Eq. 10-11). */
    static OutputLoss softmaxCrossEntropy(int classes) {
        return new SoftmaxCrossEntropyLoss(classes);
    }

    /** Least squares with Gaussian noise sigma, f_i = (z_i - y_i)^2 / (2 sigma^2) (Example 1, Eq. 17, without the constant). */
    static OutputLoss gaussianLeastSquares(double sigma) {
        return new GaussianLeastSquaresLoss(sigma);
    }

    /** Binary logistic regression, f_i = log(1 + e^{z_i}) - y_i z_i with y_i in {0, 1} (Example 2, Eq. 19). */
    static OutputLoss binaryLogistic() {
        return new BinaryLogisticLoss();
    }

    /** Softmax cross-entropy with a stable log-sum-exp; state = the softmax probabilities. */
    final class SoftmaxCrossEntropyLoss implements OutputLoss {
        private final int k;

        SoftmaxCrossEntropyLoss(int k) {
            this.k = k;
        }

        @Override
        public int outputs() {
            return k;
        }

        @Override
        public double lossAndSignal(double[] z, double[] targets, int n, double[] signal, double[] state) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                int base = i * k;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    max = Math.max(max, z[base + j]);
                }
                double expSum = 0;
                for (int j = 0; j < k; j++) {
                    expSum += Math.exp(z[base + j] - max);
                }
                double logSumExp = max + Math.log(expSum);
                int y = (int) targets[i];
                sum += logSumExp - z[base + y];                              // -log p(y_i | x_i), Eq. 10-11
                for (int j = 0; j < k; j++) {
                    double p = Math.exp(z[base + j] - logSumExp);
                    state[base + j] = p;
                    signal[base + j] = p - (j == y ? 1.0 : 0.0);             // d f_i / d z = p - onehot(y_i)
                }
            }
            return sum;
        }

        @Override
        public void hessianTimes(double[] p, double[] rz, int n, double[] out) {
            for (int i = 0; i < n; i++) {
                int base = i * k;
                double dot = 0;
                for (int j = 0; j < k; j++) {
                    dot += p[base + j] * rz[base + j];
                }
                for (int j = 0; j < k; j++) {
                    out[base + j] = p[base + j] * (rz[base + j] - dot);      // (diag(p) - p p^T) rz
                }
            }
        }
    }

    /** Example 1: l = (z - y)^2 / (2 sigma^2); l' = (z - y) / sigma^2, l'' = 1 / sigma^2. */
    final class GaussianLeastSquaresLoss implements OutputLoss {
        private final double sigma;

        GaussianLeastSquaresLoss(double sigma) {
            if (!(sigma > 0) || Double.isInfinite(sigma)) {
                throw new IllegalArgumentException("noise sigma must be > 0 and finite, got " + sigma);
            }
            this.sigma = sigma;
        }

        @Override
        public int outputs() {
            return 1;
        }

        @Override
        public double lossAndSignal(double[] z, double[] targets, int n, double[] signal, double[] state) {
            double sum = 0;
            double s2 = sigma * sigma;
            for (int i = 0; i < n; i++) {
                double r = z[i] - targets[i];
                sum += r * r / (2 * s2);
                signal[i] = r / s2;
                state[i] = 1 / s2;
            }
            return sum;
        }

        @Override
        public void hessianTimes(double[] state, double[] rz, int n, double[] out) {
            for (int i = 0; i < n; i++) {
                out[i] = state[i] * rz[i];
            }
        }
    }

    /** Example 2: l = log(1 + e^z) - y z; l' = p - y, l'' = p (1 - p) with p = 1 / (1 + e^{-z}). */
    final class BinaryLogisticLoss implements OutputLoss {

        @Override
        public int outputs() {
            return 1;
        }

        @Override
        public double lossAndSignal(double[] z, double[] targets, int n, double[] signal, double[] state) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                double zi = z[i];
                double softplus = zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi));
                sum += softplus - targets[i] * zi;
                double p = 1 / (1 + Math.exp(-zi));
                signal[i] = p - targets[i];
                state[i] = p * (1 - p);
            }
            return sum;
        }

        @Override
        public void hessianTimes(double[] state, double[] rz, int n, double[] out) {
            for (int i = 0; i < n; i++) {
                out[i] = state[i] * rz[i];
            }
        }
    }
}
