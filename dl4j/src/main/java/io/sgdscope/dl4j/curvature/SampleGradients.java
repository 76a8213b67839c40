package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.GradientMoments;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The n x p matrix J of per-example gradients (row i = grad f(theta; z_i)) of a probe set, from DL4J's
 * own backpropagation on minibatches of one example each, and what follows from it: the Gram matrix
 * G = J J^T (hence the exact moments of Eq. 4-7 through {@link GradientMoments#ofGram}) and
 * M_t v = (1/n) J^T (J v) (Eq. 7).
 *
 * <p>Cost: n forward and backward passes of one example, then one n x n x p product for G; memory
 * n * p doubles (a probe set of 256 examples on a p = 134,794 MNIST net: 276 MB off-heap).
 *
 * <p>Precision: float64. Not thread-safe (the product buffers are reused).
 */
public final class SampleGradients {

    /** The most examples a probe set may hold (that of the trainer's exact Gram path). */
    public static final int MAX_SAMPLES = GradientMoments.DEFAULT_GRAM_LIMIT;

    private final INDArray jacobian;
    private final int n;
    private final int p;
    private final double loss;
    private final INDArray jv;
    private final INDArray product;

    private SampleGradients(INDArray jacobian, double loss) {
        this.jacobian = jacobian;
        this.n = (int) jacobian.rows();
        this.p = (int) jacobian.columns();
        this.loss = loss;
        this.jv = Nd4j.create(DataType.DOUBLE, new long[] {n, 1}, 'f');
        this.product = Nd4j.create(DataType.DOUBLE, new long[] {p, 1}, 'f');
    }

    /**
     * The per-example gradients of the model at its current (twin) parameters.
     *
     * @param features [n, d], n <= {@link #MAX_SAMPLES}
     * @param labels   [n, k]
     */
    public static SampleGradients of(GradientModel model, INDArray features, INDArray labels) {
        long n = features.rows();
        if (n < 1 || n > MAX_SAMPLES) {
            throw new IllegalArgumentException("a probe set needs 1 to " + MAX_SAMPLES + " examples, got " + n);
        }
        if (labels.rows() != n) {
            throw new IllegalArgumentException("the probe set has " + n + " feature rows and " + labels.rows()
                    + " label rows");
        }
        int p = model.parameterCount();
        INDArray jacobian = Nd4j.create(DataType.DOUBLE, new long[] {n, p}, 'c');
        INDArray row = Nd4j.create(DataType.DOUBLE, p);
        double lossSum = 0;
        for (int i = 0; i < n; i++) {
            lossSum += model.lossAndGradient(features.getRow(i, true), labels.getRow(i, true), row);
            jacobian.getRow(i).assign(row);
        }
        return new SampleGradients(jacobian, lossSum / n);
    }

    /** n, the examples. */
    public int samples() {
        return n;
    }

    /** p, the parameters. */
    public int parameterCount() {
        return p;
    }

    /** f(theta) = (1/n) sum_i f(theta; z_i) on the probe set (Eq. 3). */
    public double loss() {
        return loss;
    }

    /** J itself, [n, p] float64, row-major (not a copy). */
    public INDArray jacobian() {
        return jacobian;
    }

    /** mu = (1/n) J^T 1 (Eq. 4), a new [p] array. */
    public INDArray mean() {
        return jacobian.mean(0).reshape(p);
    }

    /** G = J J^T, a new [n, n] array. */
    public INDArray gram() {
        INDArray gram = Nd4j.create(DataType.DOUBLE, new long[] {n, n}, 'f');
        Nd4j.gemm(jacobian, jacobian, gram, false, true, 1.0, 0.0);
        return gram;
    }

    /** The exact moments of Eq. 4-7 from G (see {@link GradientMoments#ofGram}). */
    public GradientMoments moments() {
        return GradientMoments.ofGram(gram());
    }

    /** out = M_t v = (1/n) J^T (J v) (Eq. 7); v and out are [p]. */
    public void secondMomentTimes(INDArray v, INDArray out) {
        Nd4j.gemm(jacobian, v.castTo(DataType.DOUBLE).reshape(p, 1), jv, false, false, 1.0, 0.0);
        Nd4j.gemm(jacobian, jv, product, true, false, 1.0 / n, 0.0);
        out.assign(product.reshape(out.shape()));
    }
}
