package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The exact full-batch moments of the sample gradients at theta_t (Eq. 4-7, Theorem 1).
 *
 * @param gradNormSq      ||mu||^2, mu = grad f (Eq. 4)
 * @param traceM          Tr M = (1/n) sum_i ||grad f_i||^2 (Eq. 7)
 * @param traceSigma      Tr Sigma = Tr M - ||mu||^2 (Eq. 5)
 * @param sigmaFrobenius  ||Sigma||_F
 * @param sigmaSpectral   ||Sigma||_2 (Sigma is PSD: its largest eigenvalue)
 * @param sigmaHalfMuNorm ||Sigma^{1/2} mu|| = sqrt(mu^T Sigma mu)
 */
public record GradientMoments(double gradNormSq, double traceM, double traceSigma, double sigmaFrobenius,
                              double sigmaSpectral, double sigmaHalfMuNorm) {

    /** Up to this many samples the n x n Gram matrix of the sample gradients is formed (n^2 values). */
    public static final int DEFAULT_GRAM_LIMIT = 2048;

    /** Rows per block when the Gram matrix is too large to form whole. */
    private static final int BLOCK = 1024;

    /**
     * The moments at the network's theta. For n <= {@code gramLimit}, from the Gram matrix
     * G = J J^T (G_ij = sum_l (delta_i^T delta_j)(a_i^T a_j + 1)) and its centred form C G C
     * (C = I - 11^T/n): the non-zero spectrum of Sigma = (1/n) J^T C J is that of (1/n) C G C, so
     * Tr Sigma, ||Sigma||_F and ||Sigma||_2 (the top eigenvalue of C G C by Lanczos with full reorthogonalisation
     * to 1e-13 relative residual, {@link #largestEigenvalue}) are exact to float64 rounding;
     * mu^T Sigma mu = (1/n^3) ||G 1 - mean(G 1)||^2 (J mu = G 1 / n). Otherwise matrix-free: Tr M by the
     * per-layer identity, mu^T M mu from one M mu product, ||G||_F^2 accumulated over n x 1024 blocks
     * (||Sigma||_F^2 = ||G||_F^2 / n^2 - 2 mu^T M mu + ||mu||^4), ||Sigma||_2 by Lanczos on Sigma v
     * (converged to 1e-8 relative residual, at most 200 steps).
     *
     * <p>Precision: the Gram blocks and products in the network's data type, the rest in float64.
     */
    public static GradientMoments of(NetworkCurvature net, int gramLimit) {
        return net.samples() <= gramLimit ? fromGram(net) : matrixFree(net);
    }

    private static GradientMoments fromGram(NetworkCurvature net) {
        return fromGram(net.sampleGram().data().asDouble(), net.samples());       // symmetric: order does not matter
    }

    /**
     * The moments from the n x n Gram matrix G = J J^T of n per-sample gradients as an ND4J array, however it was
     * obtained (e.g. from explicit per-sample gradients of another framework's network): see
     * {@link #fromGram(double[], int)}. Exact, float64.
     *
     * @param gram [n, n] symmetric, any data type and order
     */
    public static GradientMoments ofGram(INDArray gram) {
        if (gram.rank() != 2 || gram.rows() != gram.columns()) {
            throw new IllegalArgumentException("the Gram matrix must be square, got " + java.util.Arrays.toString(gram.shape()));
        }
        INDArray doubles = gram.castTo(DataType.DOUBLE);
        if (doubles.isView()) {
            doubles = doubles.dup();
        }
        return fromGram(doubles.data().asDouble(), (int) gram.rows());             // symmetric: order does not matter
    }

    /**
     * The moments from the n x n Gram matrix of the per-sample gradients G_ij = grad f_i^T grad f_j (Eq. 4-7, as
     * {@link #of} describes): ||mu||^2 = 1^T G 1 / n^2, Tr M = Tr G / n, and Tr Sigma, ||Sigma||_F, ||Sigma||_2 from
     * the spectrum of (1/n) C G C (its largest eigenvalue by {@link #largestEigenvalue}), ||Sigma^{1/2} mu||^2 = ||G 1 - mean(G 1)||^2 / n^3.
     * The ensemble engine hands over each run's Gram matrix of a block's batched products here, so both engines
     * share this arithmetic. In float64.
     *
     * @param values the n^2 entries of G (symmetric, so row- or column-major alike)
     */
    public static GradientMoments fromGram(double[] values, int n) {
        if (values.length != n * n) {
            throw new IllegalArgumentException("a Gram matrix of " + n + " samples has " + n * n + " values, got "
                    + values.length);
        }
        double[] rowSums = new double[n];
        double total = 0;
        double trace = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0, at = i * n; j < n; j++) {
                sum += values[at + j];
            }
            rowSums[i] = sum;
            total += sum;
            trace += values[i * n + i];
        }
        double mean = total / n;
        double[] centred = new double[n * n];                                          // C G C, row-major
        double frobeniusSq = 0;
        double centredTrace = 0;
        double grand = total / ((double) n * n);
        double[] rowMeans = new double[n];
        for (int i = 0; i < n; i++) {
            rowMeans[i] = rowSums[i] / n;
        }
        for (int i = 0; i < n; i++) {
            double ri = rowMeans[i];
            for (int j = 0, at = i * n; j < n; j++) {
                double c = values[at + j] - ri - rowMeans[j] + grand;
                centred[at + j] = c;
                frobeniusSq += c * c;
            }
            centredTrace += centred[i * n + i];
        }
        double largest = largestEigenvalue(centred, n);
        double spread = 0;
        for (int i = 0; i < n; i++) {
            double d = rowSums[i] - mean;
            spread += d * d;
        }
        double gradNormSq = total / ((double) n * n);                                 // ||mu||^2 = 1^T G 1 / n^2
        double muSigmaMu = spread / ((double) n * n * n);
        return new GradientMoments(gradNormSq, trace / n, centredTrace / n, Math.sqrt(frobeniusSq) / n,
                Math.max(0, largest / n), Math.sqrt(Math.max(0, muSigmaMu)));
    }

    /** {@link #largestEigenvalue} solves the tridiagonal T_k for its convergence test every this many steps. */
    private static final int CHECK_EVERY = 3;

    /** Relative residual at which {@link #largestEigenvalue} stops. */
    static final double TOP_TOLERANCE = 1e-13;

    /**
     * The largest eigenvalue of a symmetric (here PSD) n x n matrix A, by Lanczos with full (twice repeated
     * classical Gram-Schmidt) reorthogonalisation from a fixed pseudo-random start vector, in float64. After k
     * steps the top Ritz value theta of the k x k tridiagonal T_k satisfies theta <= lambda_max (Rayleigh-Ritz)
     * and, with the Ritz vector's residual r = beta_k |s_k| (s_k: the last entry of T_k's top eigenvector), some
     * eigenvalue lies within r of theta; if the next eigenvalue is at least delta below, lambda_max - theta <= r^2 /
     * delta (Kato-Temple). It tests every 3 steps (T_k's eigenproblem costs more than a step) and stops once
     * r <= 1e-13 theta, or when the Krylov space is invariant (beta_k <= 1e-15 ||A||, or k = n: then theta is an
     * eigenvalue of A up to rounding, the same as LAPACK's dsyev). Should Commons Math's tridiagonal QL not
     * converge, LAPACK's dsyev on A decides. No full
     * eigendecomposition: about 2 n^2 flops plus the reorthogonalisation's 4 n k per step; a Gram's spectrum decays
     * fast, so tens of steps, where dsyev's tridiagonalisation costs 4 n^3 / 3 (plus ND4J's copies and JNI call).
     *
     * @param a row-major n x n, symmetric (so column-major alike)
     */
    static double largestEigenvalue(double[] a, int n) {
        if (n == 1) {
            return a[0];
        }
        double norm = 0;                                                               // ||A||_F >= ||A||_2
        for (double v : a) {
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            return 0;
        }
        double[][] q = new double[n][];
        double[] alpha = new double[n];
        double[] beta = new double[n];
        double[] start = new double[n];
        java.util.SplittableRandom random = new java.util.SplittableRandom(0x5D5C09EL);
        double startNorm = 0;
        for (int i = 0; i < n; i++) {
            start[i] = random.nextDouble() - 0.5;
            startNorm += start[i] * start[i];
        }
        startNorm = Math.sqrt(startNorm);
        for (int i = 0; i < n; i++) {
            start[i] /= startNorm;
        }
        q[0] = start;
        double theta = 0;
        for (int k = 0; k < n; k++) {
            double[] qk = q[k];
            double[] w = new double[n];
            for (int j = 0; j < n; j++) {                                              // w = A q_k = sum_j q_kj A[j, :]
                double c = qk[j];                                                      // (A symmetric: row j is column
                for (int i = 0, at = j * n; i < n; i++) {                              // j; an axpy per row, which the
                    w[i] += c * a[at + i];                                             // JIT vectorises, where a dot per
                }                                                                      // row is one serial chain)
            }
            for (int pass = 0; pass < 2; pass++) {                                     // w -= Q_k (Q_k^T w), twice
                for (int j = 0; j <= k; j++) {
                    double[] qj = q[j];
                    double c = dot(qj, w, n);
                    if (j == k) {
                        alpha[k] += c;
                    }
                    for (int i = 0; i < n; i++) {
                        w[i] -= c * qj[i];
                    }
                }
            }
            double b = Math.sqrt(dot(w, w, n));
            beta[k] = b;
            double lastEntry;
            boolean last = k == n - 1 || b <= 1e-15 * norm;
            if (!last && k % CHECK_EVERY != CHECK_EVERY - 1) {                           // T_k solved every few steps
                for (int i = 0; i < n; i++) {
                    w[i] /= b;
                }
                q[k + 1] = w;
                continue;
            }
            if (k == 0) {
                theta = alpha[0];
                lastEntry = 1;
            } else {
                org.apache.commons.math3.linear.EigenDecomposition t;
                try {
                    t = new org.apache.commons.math3.linear.EigenDecomposition(
                            java.util.Arrays.copyOf(alpha, k + 1), java.util.Arrays.copyOf(beta, k));
                } catch (org.apache.commons.math3.exception.MaxCountExceededException e) {
                    return lapackLargest(a, n);                                        // Commons Math's QL gave up
                }
                double[] ritz = t.getRealEigenvalues();
                int top = 0;
                for (int i = 1; i < ritz.length; i++) {
                    if (ritz[i] > ritz[top]) {
                        top = i;
                    }
                }
                theta = ritz[top];
                lastEntry = t.getEigenvector(top).getEntry(k);
            }
            if (last || b * Math.abs(lastEntry) <= TOP_TOLERANCE * Math.abs(theta)) {
                return theta;
            }
            for (int i = 0; i < n; i++) {
                w[i] /= b;
            }
            q[k + 1] = w;
        }
        return theta;
    }

    /** x . y over the first n entries, four partial sums (no single serial chain of additions). */
    private static double dot(double[] x, double[] y, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += x[i] * y[i];
            s1 += x[i + 1] * y[i + 1];
            s2 += x[i + 2] * y[i + 2];
            s3 += x[i + 3] * y[i + 3];
        }
        for (; i < n; i++) {
            s0 += x[i] * y[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The largest eigenvalue by LAPACK's full symmetric eigensolver dsyev (values only), through ND4J. */
    private static double lapackLargest(double[] a, int n) {
        INDArray matrix = Nd4j.createFromArray(a).reshape(n, n).castTo(DataType.DOUBLE).dup('f');
        INDArray eigenvalues = Nd4j.create(DataType.DOUBLE, n);
        Nd4j.getBlasWrapper().lapack().syev('N', 'U', matrix, eigenvalues);
        return eigenvalues.maxNumber().doubleValue();
    }

    private static GradientMoments matrixFree(NetworkCurvature net) {
        int n = net.samples();
        INDArray mu = net.gradient();
        double gradNormSq = mu.norm2Number().doubleValue();
        gradNormSq *= gradNormSq;
        double traceM = net.traceSecondMoment();
        INDArray mMu = Nd4j.create(net.dataType(), net.parameterCount());
        net.secondMomentTimes(mu, mMu);
        double muMMu = Nd4j.getBlasWrapper().dot(mu, mMu);
        double gramFrobeniusSq = 0;
        for (int from = 0; from < n; from += BLOCK) {
            int to = Math.min(n, from + BLOCK);
            for (int from2 = from; from2 < n; from2 += BLOCK) {
                int to2 = Math.min(n, from2 + BLOCK);
                INDArray block = net.sampleGram(from, to, from2, to2).castTo(DataType.DOUBLE);
                double sq = block.mul(block).sumNumber().doubleValue();
                gramFrobeniusSq += from2 == from ? sq : 2 * sq;                        // G is symmetric
            }
        }
        double frobeniusSq = gramFrobeniusSq / ((double) n * n) - 2 * muMMu + gradNormSq * gradNormSq;
        EigenPairs top = Lanczos.topEigenpairs(net.covariance(), 1, new Lanczos.Settings(200, 1e-8, 10), mu, 1L);
        double muSigmaMu = muMMu - gradNormSq * gradNormSq;
        return new GradientMoments(gradNormSq, traceM, traceM - gradNormSq, Math.sqrt(Math.max(0, frobeniusSq)),
                Math.max(0, top.values()[0]), Math.sqrt(Math.max(0, muSigmaMu)));
    }
}
