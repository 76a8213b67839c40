package io.sgdscope.trainer.model;

import java.util.List;

/**
 * Independent reference for the tests: the network and its loss written out in plain double loops,
 * straight from the flat theta (layout: per layer W_l [in, out] row-major, then b_l) and the data.
 * Deliberately naive; shares no code with {@link Mlp}.
 */
public final class PlainJavaMlp {

    private PlainJavaMlp() {}

    /** Mean over the listed samples of -log softmax(phi(theta; x_i))_{y_i} (Eq. 3, 10, 11). */
    public static double loss(List<Integer> layers, double[] theta, double[][] x, int[] y, int[] indices) {
        double sum = 0;
        for (int i : indices) {
            double[] z = logits(layers, theta, x[i]);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double s = 0;
            for (double v : z) {
                s += Math.exp(v - max);
            }
            sum += max + Math.log(s) - z[y[i]];
        }
        return sum / indices.length;
    }

    /** f(theta) over all samples. */
    public static double loss(List<Integer> layers, double[] theta, double[][] x, int[] y) {
        int[] all = new int[x.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return loss(layers, theta, x, y, all);
    }

    /** Share of samples whose largest logit is the label. */
    public static double accuracy(List<Integer> layers, double[] theta, double[][] x, int[] y) {
        int correct = 0;
        for (int i = 0; i < x.length; i++) {
            double[] z = logits(layers, theta, x[i]);
            int best = 0;
            for (int j = 1; j < z.length; j++) {
                if (z[j] > z[best]) {
                    best = j;
                }
            }
            if (best == y[i]) {
                correct++;
            }
        }
        return (double) correct / x.length;
    }

    /** phi(theta; x): h_{l+1} = relu(h_l W_l + b_l), no relu on the last layer. */
    public static double[] logits(List<Integer> layers, double[] theta, double[] x) {
        double[] h = x;
        int offset = 0;
        for (int l = 0; l + 1 < layers.size(); l++) {
            int in = layers.get(l);
            int out = layers.get(l + 1);
            double[] next = new double[out];
            for (int o = 0; o < out; o++) {
                double v = theta[offset + in * out + o];          // b_l[o]
                for (int a = 0; a < in; a++) {
                    v += h[a] * theta[offset + a * out + o];       // W_l[a][o], row-major
                }
                boolean last = l + 2 == layers.size();
                next[o] = last ? v : Math.max(0, v);
            }
            offset += in * out + out;
            h = next;
        }
        return h;
    }
}
