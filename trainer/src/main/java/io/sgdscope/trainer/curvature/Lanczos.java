package io.sgdscope.trainer.curvature;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The symmetric Lanczos method with full reorthogonalisation (classical Gram-Schmidt, twice, against
 * every basis vector so far), for the top-k eigenpairs of an operator known by its products.
 *
 * <p>Precision: the basis, the products and the Gram-Schmidt steps are in the operator's data type;
 * the small tridiagonal matrix T is diagonalised in float64 (Apache Commons Math's symmetric
 * eigensolver). Residual norms are the Lanczos estimates |beta_m s_{m,j}|, which equal
 * ||A y_j - theta_j y_j|| in exact arithmetic and stay reliable with full reorthogonalisation.
 *
 * <p>Memory: the basis, (steps + 1) x p values; no p x p matrix.
 */
public final class Lanczos {

    /**
     * How long to iterate.
     *
     * @param maxSteps   at most this many products (capped at p)
     * @param tolerance  stop once the top-k residuals are all <= tolerance * max |Ritz value|; 0 = always take maxSteps
     * @param checkEvery test for convergence every this many steps
     */
    public record Settings(int maxSteps, double tolerance, int checkEvery) {
        public Settings {
            if (maxSteps < 1) {
                throw new IllegalArgumentException("Lanczos steps must be >= 1, got " + maxSteps);
            }
            if (!(tolerance >= 0)) {
                throw new IllegalArgumentException("Lanczos tolerance must be >= 0, got " + tolerance);
            }
            if (checkEvery < 1) {
                throw new IllegalArgumentException("Lanczos check interval must be >= 1, got " + checkEvery);
            }
        }

        /** Exactly {@code steps} steps, no early stop (benchmarks). */
        public static Settings fixedSteps(int steps) {
            return new Settings(steps, 0, steps);
        }
    }

    private Lanczos() {}

    /**
     * The top-k eigenpairs of {@code operator} (largest algebraic eigenvalues) and its smallest Ritz pair.
     *
     * @param start the first Krylov vector (e.g. a warm start from the previous snapshot), [p]; null = random
     * @param seed  seeds the random start and any restart after an invariant subspace
     */
    public static EigenPairs topEigenpairs(SymmetricOperator operator, int k, Settings settings, INDArray start,
                                           long seed) {
        int p = operator.dimension();
        DataType type = operator.dataType();
        int maxSteps = Math.min(settings.maxSteps(), p);
        if (k < 1 || k > maxSteps) {
            throw new IllegalArgumentException("need 1 <= k <= Lanczos steps (" + maxSteps + "), got k = " + k);
        }
        SplittableRandom random = new SplittableRandom(seed);
        INDArray basis = Nd4j.create(type, new long[] {maxSteps + 1, p}, 'c');
        INDArray w = Nd4j.create(type, p);
        INDArray coefficients = Nd4j.create(type, new long[] {maxSteps + 1, 1}, 'f');
        double[] alpha = new double[maxSteps];
        double[] beta = new double[maxSteps];

        INDArray first = start == null || start.norm2Number().doubleValue() == 0 ? randomVector(p, type, random)
                : start.castTo(type).reshape(p).dup();
        INDArray[] rows = new INDArray[maxSteps + 1];
        rows[0] = row(basis, 0);
        rows[0].assign(first.divi(first.norm2Number()));
        org.nd4j.linalg.api.blas.Level1 blas = Nd4j.getBlasWrapper().level1();
        INDArray column = w.reshape(p, 1);
        int steps = 0;
        Tridiagonal ritz = null;
        try (PreparedOps ops = new PreparedOps()) {
            for (int j = 0; j < maxSteps; j++) {
                INDArray q = rows[j];
                operator.apply(q, w);
                alpha[j] = blas.dot(p, 1.0, q, w);
                // Full reorthogonalisation, twice: c = Q_j w, w -= Q_j^T c.
                INDArray prefix = basis.get(NDArrayIndex.interval(0, j + 1), NDArrayIndex.all());
                INDArray c = coefficients.get(NDArrayIndex.interval(0, j + 1), NDArrayIndex.all());
                Runnable project = ops.matmul(prefix, column, c, false, false, 1.0, 0.0);
                Runnable remove = ops.matmul(prefix, c, column, true, false, -1.0, 1.0);
                for (int pass = 0; pass < 2; pass++) {
                    project.run();
                    remove.run();
                }
                double norm = blas.nrm2(w);
                beta[j] = norm;
                steps = j + 1;
                boolean lastStep = steps == maxSteps;
                boolean check = settings.tolerance() > 0 && steps >= k && (steps % settings.checkEvery() == 0);
                if (check || lastStep) {
                    ritz = new Tridiagonal(alpha, beta, steps);
                    if (lastStep || ritz.converged(k, settings.tolerance())) {
                        break;
                    }
                }
                rows[j + 1] = row(basis, j + 1);
                double scale = Math.max(Math.abs(alpha[j]), 1e-300);
                if (norm <= 1e-10 * scale || norm == 0) {
                    // An invariant subspace: continue in a fresh direction orthogonal to it (T decouples, beta = 0).
                    beta[j] = 0;
                    INDArray fresh = randomVector(p, type, random);
                    double freshNorm = orthogonalize(basis, j + 1, fresh, coefficients);
                    rows[j + 1].assign(fresh.divi(freshNorm));
                } else {
                    blas.copy(w, rows[j + 1]);
                    blas.scal(p, 1.0 / norm, rows[j + 1]);
                }
            }
        }
        return ritz.pairs(k, basis, type);
    }

    /** A start vector made of previous unit eigenvectors (columns of {@code previous}, plus {@code extra}), slightly randomised. */
    public static INDArray warmStart(INDArray previous, INDArray extra, long seed) {
        return warmStart(warmDirection(previous, extra), seed);
    }

    /**
     * The direction a warm start comes from: the sum of the previous unit eigenvectors (columns of
     * {@code previous}) plus {@code extra}, not normalised; null without previous vectors. One vector of
     * length p, so it is what a checkpoint keeps of the previous eigenpairs.
     */
    public static INDArray warmDirection(INDArray previous, INDArray extra) {
        if (previous == null) {
            return null;
        }
        INDArray start = previous.sum(1).reshape(previous.rows());
        if (extra != null) {
            start.addi(extra.reshape(previous.rows()));
        }
        return start;
    }

    /** The start vector from a {@link #warmDirection}: normalised, plus a little noise of the given seed; null for null. */
    public static INDArray warmStart(INDArray direction, long seed) {
        if (direction == null) {
            return null;
        }
        INDArray start = direction.dup();
        double norm = start.norm2Number().doubleValue();
        INDArray noise = randomVector((int) start.length(), start.dataType(), new SplittableRandom(seed));
        // A little of every direction keeps eigenvectors that were not among the previous top-k reachable.
        return start.divi(norm == 0 ? 1 : norm).addi(noise.muli(0.05 / Math.sqrt(start.length())));
    }

    /** w -= Q^T (Q w) twice against the first {@code rows} basis vectors; returns ||w|| after. */
    private static double orthogonalize(INDArray basis, int rows, INDArray w, INDArray coefficients) {
        INDArray q = basis.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all());
        INDArray c = coefficients.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all());
        INDArray column = w.reshape(w.length(), 1);
        for (int pass = 0; pass < 2; pass++) {
            Nd4j.gemm(q, column, c, false, false, 1.0, 0.0);
            Nd4j.gemm(q, c, column, true, false, -1.0, 1.0);
        }
        return w.norm2Number().doubleValue();
    }

    private static INDArray row(INDArray basis, int j) {
        return basis.getRow(j).reshape(basis.columns());
    }

    private static INDArray randomVector(int p, DataType type, SplittableRandom random) {
        return Nd4j.createFromArray(gaussian(p, random)).castTo(type);
    }

    /** p standard normal values: the random start (and restart) vectors, also of {@link BatchedLanczos}. */
    static double[] gaussian(int p, SplittableRandom random) {
        double[] values = new double[p];
        for (int i = 0; i < p; i++) {
            values[i] = random.nextGaussian();
        }
        return values;
    }

    /** The Lanczos tridiagonal matrix T_m and its eigendecomposition (float64); {@link BatchedLanczos} shares it. */
    static final class Tridiagonal {
        final double[] values;
        final RealMatrix vectors;
        final double lastBeta;
        final Integer[] descending;
        final int m;

        Tridiagonal(double[] alpha, double[] beta, int m) {
            this.m = m;
            EigenDecomposition eigen = new EigenDecomposition(Arrays.copyOf(alpha, m), Arrays.copyOf(beta, Math.max(0, m - 1)));
            this.values = eigen.getRealEigenvalues();
            this.vectors = eigen.getV();
            this.lastBeta = beta[m - 1];
            this.descending = IntStream.range(0, m).boxed()
                    .sorted(Comparator.comparingDouble((Integer i) -> values[i]).reversed()).toArray(Integer[]::new);
        }

        double residual(int index) {
            return Math.abs(lastBeta * vectors.getEntry(m - 1, index));
        }

        boolean converged(int k, double tolerance) {
            double scale = Math.max(Math.abs(values[descending[0]]), Math.abs(values[descending[m - 1]]));
            for (int j = 0; j < k; j++) {
                if (residual(descending[j]) > tolerance * scale) {
                    return false;
                }
            }
            return true;
        }

        EigenPairs pairs(int k, INDArray basis, DataType type) {
            int count = Math.min(k, m);
            double[] top = new double[count];
            double[] residuals = new double[count];
            double[][] s = new double[m][count + 1];
            for (int j = 0; j < count; j++) {
                int index = descending[j];
                top[j] = values[index];
                residuals[j] = residual(index);
                for (int i = 0; i < m; i++) {
                    s[i][j] = vectors.getEntry(i, index);
                }
            }
            int bottom = descending[m - 1];
            for (int i = 0; i < m; i++) {
                s[i][count] = vectors.getEntry(i, bottom);
            }
            INDArray q = basis.get(NDArrayIndex.interval(0, m), NDArrayIndex.all());
            INDArray coefficients = Nd4j.createFromArray(s).castTo(type).dup('f');
            INDArray ritzVectors = Nd4j.create(type, new long[] {basis.columns(), count + 1}, 'f');
            Nd4j.gemm(q, coefficients, ritzVectors, true, false, 1.0, 0.0);
            INDArray topVectors = ritzVectors.get(NDArrayIndex.all(), NDArrayIndex.interval(0, count)).dup('f');
            INDArray smallestVector = ritzVectors.getColumn(count).dup().reshape(basis.columns());
            return new EigenPairs(top, residuals, topVectors, values[bottom], residual(bottom), smallestVector, m);
        }
    }
}
