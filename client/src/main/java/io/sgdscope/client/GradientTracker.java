package io.sgdscope.client;

/**
 * One run's gradient statistics across iterations: keeps theta_0 and g_{t-1} and gives, for each iteration's
 * parameters and gradient, ||g_t||, cos(g_t, g_{t-1}) and ||theta_t - theta_0|| ({@link GradientStatistics}).
 * Sums run in float64 whatever the arrays' precision (float32 values are widened exactly). Not thread-safe: one per
 * run, called in iteration order.
 *
 * <p>The trainer's ensemble engine computes the same ||g_t|| and cos(g_t, g_{t-1}) in
 * {@code BatchedMlp.gradientStatistics}, for its own layout (every run's gradient at once, per layer [R, ...]
 * arrays); this one takes one run's flat array, so the two stay separate on purpose.
 */
public final class GradientTracker {

    private final int length;
    private double[] theta0;
    private final double[] previous;
    private double previousNorm;
    private boolean hasPrevious;

    /** @param parameterCount p, the length of every parameter and gradient array */
    public GradientTracker(int parameterCount) {
        if (parameterCount < 1) {
            throw new IllegalArgumentException("the parameter count must be >= 1, got " + parameterCount);
        }
        this.length = parameterCount;
        this.previous = new double[parameterCount];
    }

    /**
     * The statistics of the next iteration; the first call's theta is theta_0.
     *
     * @param theta    theta_t, before the update (not kept: copied when it is theta_0)
     * @param gradient g_t (copied, for the next cosine)
     * @throws IllegalArgumentException when an array's length is not p
     */
    public GradientStatistics next(double[] theta, double[] gradient) {
        check("parameter", theta.length);
        check("gradient", gradient.length);
        if (theta0 == null) {
            theta0 = theta.clone();
        }
        double normSq = 0;
        double dot = 0;
        double distanceSq = 0;
        for (int i = 0; i < length; i++) {
            double g = gradient[i];
            normSq += g * g;
            dot += g * previous[i];
            double d = theta[i] - theta0[i];
            distanceSq += d * d;
        }
        System.arraycopy(gradient, 0, previous, 0, length);
        return finish(normSq, dot, distanceSq);
    }

    /** The statistics from the sums; g_t is already in {@code previous} for the next call. */
    private GradientStatistics finish(double normSq, double dot, double distanceSq) {
        double norm = Math.sqrt(normSq);                                        // ||g_t||, Fig. 8 (right)
        Double cosine = hasPrevious && norm != 0 && previousNorm != 0
                ? dot / (norm * previousNorm) : null;                           // cos(g_t, g_{t-1}), Fig. 8 (middle)
        previousNorm = norm;
        hasPrevious = true;
        return new GradientStatistics(norm, cosine, Math.sqrt(distanceSq));    // ||theta_t - theta_0||, Eq. 52
    }

    /** As {@link #next(double[], double[])} for float32 arrays (widened to float64, exactly). */
    public GradientStatistics next(float[] theta, float[] gradient) {
        return next(theta, gradient, 1.0);
    }

    /**
     * As {@link #next(float[], float[])} with g_t = gradientScale * gradient (e.g. 1/m for a gradient summed over a
     * minibatch of m), each value widened to float64 and scaled in float64, without copying the arrays.
     */
    public GradientStatistics next(float[] theta, float[] gradient, double gradientScale) {
        check("parameter", theta.length);
        check("gradient", gradient.length);
        if (theta0 == null) {
            theta0 = new double[length];
            for (int i = 0; i < length; i++) {
                theta0[i] = theta[i];
            }
        }
        double normSq = 0;
        double dot = 0;
        double distanceSq = 0;
        for (int i = 0; i < length; i++) {
            double g = gradient[i] * gradientScale;
            normSq += g * g;
            dot += g * previous[i];
            previous[i] = g;
            double d = theta[i] - theta0[i];
            distanceSq += d * d;
        }
        return finish(normSq, dot, distanceSq);
    }

    /** p. */
    public int parameterCount() {
        return length;
    }

    private void check(String what, int got) {
        if (got != length) {
            throw new IllegalArgumentException("the " + what + " array has " + got + " values, the run has p = " + length);
        }
    }
}
