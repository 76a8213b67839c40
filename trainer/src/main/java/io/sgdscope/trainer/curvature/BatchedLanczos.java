package io.sgdscope.trainer.curvature;

import java.util.SplittableRandom;

/**
 * The Lanczos method of {@link Lanczos} (full reorthogonalisation: classical Gram-Schmidt, twice) run in lockstep
 * for R independent symmetric operators of one dimension p, a fixed number of steps: each step is one batched
 * product of all R current vectors ({@link BatchedOperator}), so that the ensemble engine estimates L = max
 * |lambda(H_f)| (Eq. 6) of every run of a block with one batched Hessian-vector product per step instead of one
 * product per run and step. Run r does exactly what {@code Lanczos.topEigenpairs(A_r, 1, fixedSteps(m), start_r,
 * seed_r)} does — the same start vectors, the same random start and restarts (an invariant subspace, beta <= 1e-10
 * |alpha|, continues in a random direction drawn from the run's seed), the same tridiagonal eigensolver
 * ({@link Lanczos.Tridiagonal}) and residual estimates |beta_m s_{m,j}| — up to rounding.
 *
 * <p>Precision: the basis, the Gram-Schmidt steps and the Ritz vectors are heap float64 arrays whatever the
 * operator's precision; the tridiagonal eigenproblem is float64 (Apache Commons Math). Memory: (m + 1) R p values.
 */
public final class BatchedLanczos {

    /** R products at once: out[r p .. r p + p) = A_r v[r p .. r p + p) for every run r. */
    @FunctionalInterface
    public interface BatchedOperator {
        void apply(double[] v, double[] out);
    }

    /**
     * The extreme Ritz pairs of each run; a run that was not active has NaN values and zero vectors.
     *
     * @param top            largest Ritz value per run
     * @param topResidual    its residual estimate
     * @param bottom         smallest Ritz value per run
     * @param bottomResidual its residual estimate
     * @param topVectors     [R p]: run r's unit Ritz vector of {@code top[r]} at r p
     * @param bottomVectors  [R p]: that of {@code bottom[r]}
     * @param failures       per run, why its tridiagonal eigenproblem failed (non-finite or huge products: the
     *                       exception {@link Lanczos} would throw for that operator alone), else null
     */
    public record Result(double[] top, double[] topResidual, double[] bottom, double[] bottomResidual,
                         double[] topVectors, double[] bottomVectors, String[] failures) {

        /** max |lambda| as far as run r's Krylov space sees it (L, Eq. 6, for a Hessian). */
        public double spectralNorm(int r) {
            return Math.max(Math.abs(top[r]), Math.abs(bottom[r]));
        }

        /** The residual estimate of the Ritz value that gives {@link #spectralNorm}. */
        public double spectralNormResidual(int r) {
            return Math.abs(top[r]) >= Math.abs(bottom[r]) ? topResidual[r] : bottomResidual[r];
        }
    }

    private BatchedLanczos() {}

    /**
     * {@code steps} Lanczos steps (capped at p) for every active run.
     *
     * @param runs   R
     * @param p      the dimension
     * @param start  [R p] first Krylov vectors (not necessarily unit); a run whose start is all zeros starts from a
     *               random vector of its seed, as {@link Lanczos} does for a null start
     * @param seeds  per run, the seed of its random start and restarts
     * @param active which runs to iterate (the others' products are computed but ignored)
     */
    public static Result extremePairs(BatchedOperator operator, int runs, int p, int steps, double[] start, long[] seeds,
                                      boolean[] active) {
        int m = Math.min(steps, p);
        if (m < 1) {
            throw new IllegalArgumentException("Lanczos steps must be >= 1, got " + steps);
        }
        double[][] basis = new double[m][runs * p];
        double[] w = new double[runs * p];
        double[][] alpha = new double[runs][m];
        double[][] beta = new double[runs][m];
        SplittableRandom[] random = new SplittableRandom[runs];
        for (int r = 0; r < runs; r++) {
            random[r] = new SplittableRandom(seeds[r]);
            if (!active[r]) {
                continue;
            }
            int at = r * p;
            double norm = norm(start, at, p);
            if (norm == 0) {
                double[] fresh = Lanczos.gaussian(p, random[r]);
                System.arraycopy(fresh, 0, basis[0], at, p);
                norm = norm(basis[0], at, p);
            } else {
                System.arraycopy(start, at, basis[0], at, p);
            }
            scale(basis[0], at, p, 1 / norm);
        }
        double[] coefficients = new double[m];
        for (int j = 0; j < m; j++) {
            operator.apply(basis[j], w);
            for (int r = 0; r < runs; r++) {
                if (!active[r]) {
                    continue;
                }
                int at = r * p;
                alpha[r][j] = dot(basis[j], w, at, p);
                for (int pass = 0; pass < 2; pass++) {                      // w -= Q_j^T (Q_j w), twice
                    orthogonalize(basis, j + 1, w, at, p, coefficients);
                }
                double norm = norm(w, at, p);
                beta[r][j] = norm;
                if (j + 1 == m) {
                    continue;
                }
                double scale = Math.max(Math.abs(alpha[r][j]), 1e-300);
                if (norm <= 1e-10 * scale || norm == 0) {
                    // An invariant subspace: a fresh direction orthogonal to it (T decouples, beta = 0).
                    beta[r][j] = 0;
                    double[] fresh = Lanczos.gaussian(p, random[r]);
                    System.arraycopy(fresh, 0, basis[j + 1], at, p);
                    for (int pass = 0; pass < 2; pass++) {
                        orthogonalize(basis, j + 1, basis[j + 1], at, p, coefficients);
                    }
                    scale(basis[j + 1], at, p, 1 / norm(basis[j + 1], at, p));
                } else {
                    for (int i = 0; i < p; i++) {
                        basis[j + 1][at + i] = w[at + i] / norm;
                    }
                }
            }
        }
        double[] top = new double[runs];
        double[] topResidual = new double[runs];
        double[] bottom = new double[runs];
        double[] bottomResidual = new double[runs];
        double[] topVectors = new double[runs * p];
        double[] bottomVectors = new double[runs * p];
        String[] failures = new String[runs];
        for (int r = 0; r < runs; r++) {
            if (!active[r]) {
                top[r] = bottom[r] = topResidual[r] = bottomResidual[r] = Double.NaN;
                continue;
            }
            Lanczos.Tridiagonal ritz;
            try {
                ritz = new Lanczos.Tridiagonal(alpha[r], beta[r], m);
            } catch (RuntimeException e) {                                  // this run only; the others go on
                failures[r] = e.toString();
                top[r] = bottom[r] = topResidual[r] = bottomResidual[r] = Double.NaN;
                continue;
            }
            int largest = ritz.descending[0];
            int smallest = ritz.descending[m - 1];
            top[r] = ritz.values[largest];
            topResidual[r] = ritz.residual(largest);
            bottom[r] = ritz.values[smallest];
            bottomResidual[r] = ritz.residual(smallest);
            int at = r * p;
            for (int i = 0; i < m; i++) {                                   // y = Q_m s
                axpy(ritz.vectors.getEntry(i, largest), basis[i], topVectors, at, p);
                axpy(ritz.vectors.getEntry(i, smallest), basis[i], bottomVectors, at, p);
            }
        }
        return new Result(top, topResidual, bottom, bottomResidual, topVectors, bottomVectors, failures);
    }

    /** x[at ..] -= sum_i (q_i . x) q_i over the first {@code rows} basis vectors (classical Gram-Schmidt, one pass). */
    private static void orthogonalize(double[][] basis, int rows, double[] x, int at, int p, double[] coefficients) {
        for (int i = 0; i < rows; i++) {
            coefficients[i] = dot(basis[i], x, at, p);
        }
        for (int i = 0; i < rows; i++) {
            axpy(-coefficients[i], basis[i], x, at, p);
        }
    }

    private static double dot(double[] a, double[] b, int at, int p) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                               // four partial sums: no serial chain
        int i = at;
        int end = at + p;
        for (; i + 3 < end; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < end; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static double norm(double[] a, int at, int p) {
        return Math.sqrt(dot(a, a, at, p));
    }

    private static void scale(double[] a, int at, int p, double factor) {
        for (int i = at; i < at + p; i++) {
            a[i] *= factor;
        }
    }

    /** y[at ..] += c x[at ..]. */
    private static void axpy(double c, double[] x, double[] y, int at, int p) {
        for (int i = at; i < at + p; i++) {
            y[i] += c * x[i];
        }
    }
}
