package io.sgdscope.trainer.curvature;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Lanczos method of {@link Lanczos} (full reorthogonalisation: classical Gram-Schmidt, twice) run in lockstep
 * for R independent symmetric operators of one dimension p: each step is one batched product of all R current
 * vectors ({@link BatchedOperator}), so that the ensemble engine gets L = max |lambda(H_f)| (Eq. 6) and the top-k
 * eigenpairs of H_f, M_t and H_p of every run of a block with one batched product per step instead of one product
 * per run and step. Run r does exactly what {@code Lanczos.topEigenpairs(A_r, k, settings, start_r, seed_r)} does
 * — the same start vectors, the same random start and restarts (an invariant subspace, beta <= 1e-10 |alpha|,
 * continues in a random direction drawn from the run's seed), the same convergence test every {@code checkEvery}
 * steps, the same tridiagonal eigensolver ({@link Lanczos.Tridiagonal}) and residual estimates |beta_m s_{m,j}| —
 * up to rounding; a run that has converged stops while the others go on ({@link #extremePairs}: a fixed number of
 * steps, {@link #topEigenpairs}: until converged).
 *
 * <p>Precision: the basis, the Gram-Schmidt steps and the Ritz vectors are heap float64 arrays whatever the
 * operator's precision; the tridiagonal eigenproblem is float64 (Apache Commons Math). Memory: per run, a basis
 * vector of p values per step it took. The reorthogonalisation, O(m^2 p) per run, runs on plain heap arrays
 * (no native call per run and step) and the runs' shares in parallel.
 */
public final class BatchedLanczos {

    /** R products at once: out[r p .. r p + p) = A_r v[r p .. r p + p) for every run r. */
    @FunctionalInterface
    public interface BatchedOperator {
        void apply(double[] v, double[] out);
    }

    /**
     * R products at once for the runs r with {@code runs[r]}, the ones still iterating: out[r p .. r p + p) = A_r
     * v[r p .. r p + p); what out holds for the other runs is ignored (an operator may skip their work).
     */
    @FunctionalInterface
    public interface MaskedOperator {
        void apply(double[] v, double[] out, boolean[] runs);
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
        if (Math.min(steps, p) < 1) {
            throw new IllegalArgumentException("Lanczos steps must be >= 1, got " + steps);
        }
        Lockstep lanczos = new Lockstep(runs, p, 1, Lanczos.Settings.fixedSteps(steps), start, seeds, active);
        lanczos.iterate((v, out, iterating) -> operator.apply(v, out));
        double[] top = new double[runs];
        double[] topResidual = new double[runs];
        double[] bottom = new double[runs];
        double[] bottomResidual = new double[runs];
        double[] topVectors = new double[runs * p];
        double[] bottomVectors = new double[runs * p];
        for (int r = 0; r < runs; r++) {
            Lanczos.Tridiagonal ritz = lanczos.ritz[r];
            if (ritz == null) {                                             // inactive, or its eigensolver failed
                top[r] = bottom[r] = topResidual[r] = bottomResidual[r] = Double.NaN;
                continue;
            }
            int largest = ritz.descending[0];
            int smallest = ritz.descending[ritz.m - 1];
            top[r] = ritz.values[largest];
            topResidual[r] = ritz.residual(largest);
            bottom[r] = ritz.values[smallest];
            bottomResidual[r] = ritz.residual(smallest);
            lanczos.ritzVector(r, largest, topVectors, r * p);
            lanczos.ritzVector(r, smallest, bottomVectors, r * p);
        }
        return new Result(top, topResidual, bottom, bottomResidual, topVectors, bottomVectors, lanczos.failures);
    }

    /**
     * Per run, the top-k eigenpairs (largest algebraic eigenvalues) and the smallest Ritz pair: for every active run
     * exactly what {@code Lanczos.topEigenpairs(A_r, k, settings, start_r, seed_r)} returns (up to rounding): the
     * same start vector, random start and restarts, the same convergence test every {@code checkEvery} steps, and a
     * run that has converged stops iterating ({@link EigenPairs#steps}: the products it took, as there).
     *
     * @param start  [R p] first Krylov vectors; all zeros: random from the run's seed ({@link Lanczos}'s null start)
     * @param type   the data type of the returned vectors (the operator's)
     * @return per run its eigenpairs, null where the run was not active or its tridiagonal eigenproblem failed (then
     *         {@link TopPairs#failures} says why)
     */
    public static TopPairs topEigenpairs(MaskedOperator operator, int runs, int p, int k, Lanczos.Settings settings,
                                         double[] start, long[] seeds, boolean[] active, DataType type) {
        int maxSteps = Math.min(settings.maxSteps(), p);
        if (k < 1 || k > maxSteps) {
            throw new IllegalArgumentException("need 1 <= k <= Lanczos steps (" + maxSteps + "), got k = " + k);
        }
        Lockstep lanczos = new Lockstep(runs, p, k, settings, start, seeds, active);
        lanczos.iterate(operator);
        EigenPairs[] pairs = new EigenPairs[runs];
        for (int r = 0; r < runs; r++) {
            if (lanczos.ritz[r] != null) {
                pairs[r] = lanczos.pairs(r, type);
            }
        }
        return new TopPairs(pairs, lanczos.failures);
    }

    /**
     * The top-k eigenpairs of each run.
     *
     * @param pairs    per run, null where it was not active or failed
     * @param failures per run, why its tridiagonal eigenproblem failed (what {@link Lanczos} would throw), else null
     */
    public record TopPairs(EigenPairs[] pairs, String[] failures) {}

    /**
     * The lockstep iteration: per run its own basis (only the steps it takes are allocated), tridiagonal T and,
     * once it stops, its {@link Lanczos.Tridiagonal}. Each step is one batched product of every run's current
     * vector; the reorthogonalisation of the runs still iterating is spread over the cores (each run's is
     * independent of the others').
     */
    private static final class Lockstep {
        final int runs;
        final int p;
        final int k;
        final int maxSteps;
        final Lanczos.Settings settings;
        final double[][][] basis;
        final double[][] alpha;
        final double[][] beta;
        final SplittableRandom[] random;
        final boolean[] iterating;
        final Lanczos.Tridiagonal[] ritz;
        final String[] failures;

        Lockstep(int runs, int p, int k, Lanczos.Settings settings, double[] start, long[] seeds, boolean[] active) {
            this.runs = runs;
            this.p = p;
            this.k = k;
            this.settings = settings;
            this.maxSteps = Math.min(settings.maxSteps(), p);
            basis = new double[runs][maxSteps][];
            alpha = new double[runs][maxSteps];
            beta = new double[runs][maxSteps];
            random = new SplittableRandom[runs];
            iterating = active.clone();
            ritz = new Lanczos.Tridiagonal[runs];
            failures = new String[runs];
            for (int r = 0; r < runs; r++) {
                random[r] = new SplittableRandom(seeds[r]);
                if (!active[r]) {
                    continue;
                }
                int at = r * p;
                double[] first = java.util.Arrays.copyOfRange(start, at, at + p);
                double norm = norm(first);
                if (norm == 0) {
                    first = Lanczos.gaussian(p, random[r]);
                    norm = norm(first);
                }
                scale(first, 1 / norm);
                basis[r][0] = first;
            }
        }

        void iterate(MaskedOperator operator) {
            double[] v = new double[runs * p];
            double[] w = new double[runs * p];
            for (int j = 0; j < maxSteps && anyIterating(); j++) {
                for (int r = 0; r < runs; r++) {
                    if (iterating[r]) {
                        System.arraycopy(basis[r][j], 0, v, r * p, p);
                    } else {
                        java.util.Arrays.fill(v, r * p, (r + 1) * p, 0);
                    }
                }
                operator.apply(v, w, iterating.clone());
                int step = j;
                IntStream.range(0, runs).parallel().filter(r -> iterating[r]).forEach(r -> step(r, step, w));
            }
        }

        private boolean anyIterating() {
            for (boolean running : iterating) {
                if (running) {
                    return true;
                }
            }
            return false;
        }

        /** Step j of run r, its product A q_j at r p of {@code products}: as one step of {@link Lanczos}. */
        private void step(int r, int j, double[] products) {
            double[][] q = basis[r];
            double[] w = java.util.Arrays.copyOfRange(products, r * p, (r + 1) * p);
            alpha[r][j] = dot(q[j], w);
            double[] coefficients = new double[j + 1];
            for (int pass = 0; pass < 2; pass++) {                              // w -= Q_j^T (Q_j w), twice
                orthogonalize(q, j + 1, w, coefficients);
            }
            double norm = norm(w);
            beta[r][j] = norm;
            int steps = j + 1;
            boolean lastStep = steps == maxSteps;
            boolean check = settings.tolerance() > 0 && steps >= k && steps % settings.checkEvery() == 0;
            if (check || lastStep) {
                Lanczos.Tridiagonal t;
                try {
                    t = new Lanczos.Tridiagonal(alpha[r], beta[r], steps);
                } catch (RuntimeException e) {                              // this run only; the others go on
                    failures[r] = e.toString();
                    iterating[r] = false;
                    return;
                }
                if (lastStep || t.converged(k, settings.tolerance())) {
                    ritz[r] = t;
                    iterating[r] = false;
                    return;
                }
            }
            double scale = Math.max(Math.abs(alpha[r][j]), 1e-300);
            if (norm <= 1e-10 * scale || norm == 0) {
                // An invariant subspace: a fresh direction orthogonal to it (T decouples, beta = 0).
                beta[r][j] = 0;
                double[] fresh = Lanczos.gaussian(p, random[r]);
                for (int pass = 0; pass < 2; pass++) {
                    orthogonalize(q, j + 1, fresh, coefficients);
                }
                scale(fresh, 1 / norm(fresh));
                q[j + 1] = fresh;
            } else {
                scale(w, 1 / norm);
                q[j + 1] = w;
            }
        }

        /** out[at ..] = Q_m s_index, run r's unit Ritz vector of T's eigenvector {@code index} (float64). */
        void ritzVector(int r, int index, double[] out, int at) {
            Lanczos.Tridiagonal t = ritz[r];
            for (int i = 0; i < t.m; i++) {
                double c = t.vectors.getEntry(i, index);
                double[] q = basis[r][i];
                for (int e = 0; e < p; e++) {
                    out[at + e] += c * q[e];
                }
            }
        }

        /** Run r's top-k pairs and smallest pair as {@link Lanczos.Tridiagonal#pairs} gives them, vectors in {@code type}. */
        EigenPairs pairs(int r, DataType type) {
            Lanczos.Tridiagonal t = ritz[r];
            int count = Math.min(k, t.m);
            double[] top = new double[count];
            double[] residuals = new double[count];
            double[][] vectors = new double[count][p];                      // row j: the Ritz vector of top[j]
            for (int j = 0; j < count; j++) {
                int index = t.descending[j];
                top[j] = t.values[index];
                residuals[j] = t.residual(index);
                ritzVector(r, index, vectors[j], 0);
            }
            int bottom = t.descending[t.m - 1];
            double[] smallest = new double[p];
            ritzVector(r, bottom, smallest, 0);
            INDArray topVectors = Nd4j.createFromArray(vectors).transpose().castTo(type).dup('f');   // [p, count]
            return new EigenPairs(top, residuals, topVectors, t.values[bottom], t.residual(bottom),
                    Nd4j.createFromArray(smallest).castTo(type), t.m);
        }
    }

    /** x -= sum_i (q_i . x) q_i over the first {@code rows} basis vectors (classical Gram-Schmidt, one pass). */
    private static void orthogonalize(double[][] basis, int rows, double[] x, double[] coefficients) {
        for (int i = 0; i < rows; i++) {
            coefficients[i] = dot(basis[i], x);
        }
        for (int i = 0; i < rows; i++) {
            double c = -coefficients[i];
            double[] q = basis[i];
            for (int e = 0; e < x.length; e++) {
                x[e] += c * q[e];
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                               // four partial sums: no serial chain
        int i = 0;
        int end = a.length;
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

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    private static void scale(double[] a, double factor) {
        for (int i = 0; i < a.length; i++) {
            a[i] *= factor;
        }
    }
}
