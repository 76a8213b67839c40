package io.sgdscope.trainer.curvature;

import java.util.List;

/**
 * Independent reference for the curvature tests: per-sample gradients of the softmax cross-entropy
 * ReLU network by backpropagation written out in plain double loops, straight from the flat theta
 * (per layer W_l [in, out] row-major, then b_l). Shares no code with {@link NetworkCurvature}.
 * relu'(0) = 0.
 */
public final class PlainJavaGradients {

    private PlainJavaGradients() {}

    /** grad_theta f(theta; (x, y)) = grad of -log softmax(phi(theta; x))_y. */
    public static double[] sampleGradient(List<Integer> layers, double[] theta, double[] x, int y) {
        int depth = layers.size() - 1;
        double[][] h = new double[depth + 1][];
        h[0] = x;
        int[] offsets = new int[depth];
        int offset = 0;
        for (int l = 0; l < depth; l++) {
            offsets[l] = offset;
            int in = layers.get(l);
            int out = layers.get(l + 1);
            h[l + 1] = new double[out];
            for (int o = 0; o < out; o++) {
                double v = theta[offset + in * out + o];
                for (int a = 0; a < in; a++) {
                    v += h[l][a] * theta[offset + a * out + o];
                }
                h[l + 1][o] = l == depth - 1 ? v : Math.max(0, v);
            }
            offset += in * out + out;
        }
        double[] z = h[depth];
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        double[] delta = new double[z.length];
        for (int j = 0; j < z.length; j++) {
            delta[j] = Math.exp(z[j] - max) / sum - (j == y ? 1 : 0);
        }
        double[] gradient = new double[theta.length];
        for (int l = depth - 1; l >= 0; l--) {
            int in = layers.get(l);
            int out = layers.get(l + 1);
            for (int a = 0; a < in; a++) {
                for (int o = 0; o < out; o++) {
                    gradient[offsets[l] + a * out + o] = h[l][a] * delta[o];
                }
            }
            for (int o = 0; o < out; o++) {
                gradient[offsets[l] + in * out + o] = delta[o];
            }
            if (l > 0) {
                double[] previous = new double[in];
                for (int a = 0; a < in; a++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += theta[offsets[l] + a * out + o] * delta[o];
                    }
                    previous[a] = h[l][a] > 0 ? s : 0;
                }
                delta = previous;
            }
        }
        return gradient;
    }

    /** All n per-sample gradients, row i = grad f(theta; z_i). */
    public static double[][] sampleGradients(List<Integer> layers, double[] theta, double[][] x, int[] y) {
        double[][] rows = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            rows[i] = sampleGradient(layers, theta, x[i], y[i]);
        }
        return rows;
    }

    /** grad f(theta) = mean of the per-sample gradients (Eq. 4). */
    public static double[] gradient(List<Integer> layers, double[] theta, double[][] x, int[] y) {
        double[] mean = new double[theta.length];
        for (double[] g : sampleGradients(layers, theta, x, y)) {
            for (int j = 0; j < mean.length; j++) {
                mean[j] += g[j] / x.length;
            }
        }
        return mean;
    }
}
