package io.sgdscope.client;

import java.util.SplittableRandom;

/**
 * The training loop of the README's example: linear least squares f(w) = (1/2n) sum_i (w.x_i + b - y_i)^2 on
 * synthetic data, trained by SGD in plain Java (float64). Its gradient has a closed form, so the tests know ||g_t||.
 */
final class LeastSquaresModel {

    private final double[][] x;
    private final double[] y;
    private final int d;
    private final double[] w;           // weights then the bias: p = d + 1
    private final double[] gradient;
    private final SplittableRandom batches;

    LeastSquaresModel(int samples, int dimension, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        d = dimension;
        x = new double[samples][dimension];
        y = new double[samples];
        double[] truth = random.doubles(dimension, -1, 1).toArray();
        for (int i = 0; i < samples; i++) {
            for (int j = 0; j < dimension; j++) {
                x[i][j] = random.nextGaussian();
                y[i] += truth[j] * x[i][j];
            }
            y[i] += 0.1 * random.nextGaussian();
        }
        w = new double[dimension + 1];
        gradient = new double[dimension + 1];
        batches = random.split();
    }

    /** theta_t (a copy). */
    double[] parameters() {
        return w.clone();
    }

    /** m sample indices drawn with replacement. */
    int[] nextBatch(int m) {
        return batches.ints(m, 0, y.length).toArray();
    }

    /** The mean loss of the batch; keeps its gradient. */
    double lossAndGradient(int[] batch) {
        java.util.Arrays.fill(gradient, 0);
        double loss = 0;
        for (int i : batch) {
            double r = residual(i);
            loss += 0.5 * r * r;
            for (int j = 0; j < d; j++) {
                gradient[j] += r * x[i][j] / batch.length;
            }
            gradient[d] += r / batch.length;
        }
        return loss / batch.length;
    }

    /** g_t of the last batch (a copy). */
    double[] gradient() {
        return gradient.clone();
    }

    /** f on every sample. */
    double loss() {
        double loss = 0;
        for (int i = 0; i < y.length; i++) {
            double r = residual(i);
            loss += 0.5 * r * r;
        }
        return loss / y.length;
    }

    /** theta_{t+1} = theta_t - eta g_t (Eq. 8). */
    void step(double eta) {
        for (int j = 0; j <= d; j++) {
            w[j] -= eta * gradient[j];
        }
    }

    private double residual(int i) {
        double prediction = w[d];
        for (int j = 0; j < d; j++) {
            prediction += w[j] * x[i][j];
        }
        return prediction - y[i];
    }
}
