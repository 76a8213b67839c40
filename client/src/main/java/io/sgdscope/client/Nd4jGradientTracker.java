package io.sgdscope.client;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientTracker} for ND4J arrays, computed by ND4J's native ops without copying the arrays into Java: theta_t
 * and g_t are cast to float64 (a native copy for float32 arrays), then ||g_t||, cos(g_t, g_{t-1}) and
 * ||theta_t - theta_0|| are float64 reductions; theta_0 and g_{t-1} are kept as float64 arrays. Needs ND4J (an optional
 * dependency of the client). Not thread-safe: one per run, called in iteration order.
 */
public final class Nd4jGradientTracker {

    private final long length;
    private INDArray theta0;
    private INDArray previous;
    private double previousNorm;

    /** @param parameterCount p, the number of values of every parameter and gradient array */
    public Nd4jGradientTracker(long parameterCount) {
        if (parameterCount < 1) {
            throw new IllegalArgumentException("the parameter count must be >= 1, got " + parameterCount);
        }
        this.length = parameterCount;
    }

    /**
     * The statistics of the next iteration; the first call's theta is theta_0. The arrays are read, not kept: they may
     * be changed in place afterwards.
     *
     * @param theta         theta_t, p values of any shape (row-major order), before the update
     * @param gradient      the gradient as the caller holds it, p values in the same order as theta
     * @param gradientScale g_t = gradientScale * gradient (e.g. 1/m for a gradient summed over a minibatch of m)
     * @throws IllegalArgumentException when an array does not have p values
     */
    public GradientStatistics next(INDArray theta, INDArray gradient, double gradientScale) {
        check("parameter", theta.length());
        check("gradient", gradient.length());
        INDArray g = copyAsDouble(gradient);                                     // a copy of its own: kept as g_{t-1}
        if (gradientScale != 1.0) {
            g.muli(gradientScale);
        }
        INDArray t = theta.dataType() == DataType.DOUBLE ? flat(theta) : flat(theta).castTo(DataType.DOUBLE);
        if (theta0 == null) {
            theta0 = copyAsDouble(theta);
        }
        double norm = g.norm2Number().doubleValue();                             // ||g_t||, Fig. 8 (right)
        Double cosine = previous != null && norm != 0 && previousNorm != 0
                ? Nd4j.getBlasWrapper().dot(g, previous) / (norm * previousNorm)  // cos(g_t, g_{t-1}), Fig. 8 (middle)
                : null;
        double distance = t.distance2(theta0);                                  // ||theta_t - theta_0||, Eq. 52
        previous = g;
        previousNorm = norm;
        return new GradientStatistics(norm, cosine, distance);
    }

    /** A float64 copy of the array's values as a vector. */
    private static INDArray copyAsDouble(INDArray array) {
        INDArray vector = flat(array);
        return vector.dataType() == DataType.DOUBLE ? vector.dup() : vector.castTo(DataType.DOUBLE);
    }

    private static INDArray flat(INDArray array) {
        return array.isVector() || array.isScalar() ? array.reshape(array.length()) : array.dup('c').reshape(array.length());
    }

    private void check(String what, long got) {
        if (got != length) {
            throw new IllegalArgumentException("the " + what + " array has " + got + " values, the run has p = " + length);
        }
    }
}
