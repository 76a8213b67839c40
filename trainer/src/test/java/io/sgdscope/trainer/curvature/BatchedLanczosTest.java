package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.DiagonalMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Lanczos in lockstep for several operators gives, run for run, what {@link Lanczos} gives for each alone (same
 * start, same steps), and with as many steps as dimensions the extreme eigenvalues of dense symmetric matrices
 * (Apache Commons Math's eigensolver as the reference); an inactive run is left alone.
 */
class BatchedLanczosTest {

    private static final int P = 40;
    private static final int RUNS = 3;

    /** Random symmetric matrices with eigenvalues of both signs. */
    private static double[][][] matrices() {
        double[][][] a = new double[RUNS][P][P];
        SplittableRandom random = new SplittableRandom(5);
        for (int r = 0; r < RUNS; r++) {
            for (int i = 0; i < P; i++) {
                for (int j = 0; j <= i; j++) {
                    double value = random.nextGaussian() + (i == j ? 0.3 * i - 4 : 0);
                    a[r][i][j] = value;
                    a[r][j][i] = value;
                }
            }
        }
        return a;
    }

    private static BatchedLanczos.BatchedOperator operator(double[][][] a) {
        return (v, out) -> {
            for (int r = 0; r < RUNS; r++) {
                for (int i = 0; i < P; i++) {
                    double s = 0;
                    for (int j = 0; j < P; j++) {
                        s += a[r][i][j] * v[r * P + j];
                    }
                    out[r * P + i] = s;
                }
            }
        };
    }

    @Test
    void eachRunIsWhatTheSingleOperatorLanczosGivesFromTheSameStart() {
        double[][][] a = matrices();
        double[] start = new double[RUNS * P];
        SplittableRandom random = new SplittableRandom(11);
        for (int i = P; i < start.length; i++) {                   // run 0 starts at random from its seed
            start[i] = random.nextGaussian();
        }
        long[] seeds = {21, 22, 23};
        boolean[] active = {true, true, true};
        BatchedLanczos.Result batched = BatchedLanczos.extremePairs(operator(a), RUNS, P, 8, start, seeds, active);
        for (int r = 0; r < RUNS; r++) {
            double[][] matrix = a[r];
            SymmetricOperator single = dense(matrix);
            INDArray first = r == 0 ? null : Nd4j.createFromArray(Arrays.copyOfRange(start, r * P, (r + 1) * P));
            EigenPairs pairs = Lanczos.topEigenpairs(single, 1, Lanczos.Settings.fixedSteps(8), first, seeds[r]);
            assertEquals(pairs.values()[0], batched.top()[r], 1e-12 * Math.abs(pairs.values()[0]), "top of run " + r);
            assertEquals(pairs.smallest(), batched.bottom()[r], 1e-12 * Math.abs(pairs.smallest()), "bottom of run " + r);
            assertEquals(pairs.residuals()[0], batched.topResidual()[r], 1e-9, "residual of run " + r);
            assertEquals(pairs.spectralNorm(), batched.spectralNorm(r), 1e-12 * pairs.spectralNorm());
            double[] vector = pairs.vectors().getColumn(0).toDoubleVector();
            double[] bottom = pairs.smallestVector().toDoubleVector();
            for (int i = 0; i < P; i++) {
                assertEquals(vector[i], batched.topVectors()[r * P + i], 1e-9, "top vector of run " + r);
                assertEquals(bottom[i], batched.bottomVectors()[r * P + i], 1e-9, "bottom vector of run " + r);
            }
        }
    }

    @Test
    void aRunWhoseProductsBlowUpFailsAloneAndTheOthersAreExact() {
        double[][][] a = matrices();
        BatchedLanczos.BatchedOperator good = operator(a);
        BatchedLanczos.BatchedOperator blownUp = (v, out) -> {                  // run 1: the products of a diverged run
            good.apply(v, out);
            for (int i = P; i < 2 * P; i++) {
                out[i] = i % 2 == 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            }
        };
        double[] start = new double[RUNS * P];
        Arrays.fill(start, 1.0);
        BatchedLanczos.Result result = BatchedLanczos.extremePairs(blownUp, RUNS, P, P, start, new long[] {1, 2, 3},
                new boolean[] {true, true, true});
        // The tridiagonal eigensolver gives up on run 1, as Lanczos would for that operator alone: run 1 is reported
        // failed, with NaN values, and the others go on.
        assertTrue(result.failures()[1] != null && result.failures()[1].contains("convergence failed"),
                String.valueOf(result.failures()[1]));
        assertTrue(Double.isNaN(result.spectralNorm(1)));
        for (int r : new int[] {0, 2}) {
            double[] eigenvalues = new EigenDecomposition(new Array2DRowRealMatrix(a[r])).getRealEigenvalues();
            double max = Arrays.stream(eigenvalues).max().orElseThrow();
            assertEquals(max, result.top()[r], 1e-10 * Math.abs(max), "largest eigenvalue of run " + r);
            assertEquals(null, result.failures()[r]);
        }
    }

    @Test
    void withAsManyStepsAsDimensionsTheExtremeRitzValuesAreTheExtremeEigenvalues() {
        double[][][] a = matrices();
        double[] start = new double[RUNS * P];
        Arrays.fill(start, 1.0);
        boolean[] active = {true, false, true};
        BatchedLanczos.Result result = BatchedLanczos.extremePairs(operator(a), RUNS, P, P, start, new long[] {1, 2, 3},
                active);
        for (int r = 0; r < RUNS; r++) {
            if (!active[r]) {
                assertTrue(Double.isNaN(result.top()[r]) && Double.isNaN(result.spectralNorm(r)), "inactive run");
                continue;
            }
            double[] eigenvalues = new EigenDecomposition(new Array2DRowRealMatrix(a[r])).getRealEigenvalues();
            double max = Arrays.stream(eigenvalues).max().orElseThrow();
            double min = Arrays.stream(eigenvalues).min().orElseThrow();
            assertEquals(max, result.top()[r], 1e-10 * Math.abs(max), "largest eigenvalue of run " + r);
            assertEquals(min, result.bottom()[r], 1e-10 * Math.abs(min), "smallest eigenvalue of run " + r);
            assertEquals(Math.max(Math.abs(max), Math.abs(min)), result.spectralNorm(r), 1e-10 * Math.abs(min));
        }
    }

    /**
     * Four runs of top-3 Lanczos (tolerance 1e-8, checked every 5 steps) in lockstep: run 0 from a random start of its
     * seed, run 1 warm-started ({@link Lanczos#warmStart}), run 2 on a matrix with 4 distinct eigenvalues (its Krylov
     * space is invariant after 4 steps: a restart), run 3 on a matrix of well separated top eigenvalues (converges
     * first); run 4 is inactive. Each run's pairs and steps are what {@link Lanczos#topEigenpairs} gives for its
     * operator alone from the same start and seed, and a run gets no products once it has stopped.
     */
    @Test
    void topEigenpairsInLockstepAreEachRunsOwnLanczosAndAConvergedRunStops() {
        int runs = 5;
        int p = 60;
        int k = 3;
        Lanczos.Settings settings = new Lanczos.Settings(p, 1e-8, 5);
        SplittableRandom random = new SplittableRandom(17);
        double[][][] a = new double[runs][][];
        for (int r = 0; r < runs; r++) {
            double[] eigenvalues = new double[p];
            for (int i = 0; i < p; i++) {
                eigenvalues[i] = switch (r) {
                    case 2 -> new double[] {-1, 0.5, 2, 3}[i % 4];               // 4 distinct: an invariant subspace
                    case 3 -> i < 3 ? 100 + 10 * i : random.nextDouble();        // big gaps: fast convergence
                    default -> random.nextGaussian() + 0.05 * i;
                };
            }
            a[r] = rotated(eigenvalues, random);
        }
        double[] start = new double[runs * p];
        for (int r = 1; r < runs; r++) {
            INDArray first = r == 1 ? Lanczos.warmStart(Nd4j.createFromArray(gaussian(p, random)).reshape(p, 1), null, 7)
                    : Nd4j.createFromArray(gaussian(p, random));
            System.arraycopy(first.toDoubleVector(), 0, start, r * p, p);
        }
        long[] seeds = {31, 32, 33, 34, 35};
        boolean[] active = {true, true, true, true, false};
        int[] products = new int[runs];
        BatchedLanczos.MaskedOperator operator = (v, out, iterating) -> {
            for (int r = 0; r < runs; r++) {
                products[r] += iterating[r] ? 1 : 0;
                for (int i = 0; i < p; i++) {
                    double sum = 0;
                    for (int j = 0; j < p; j++) {
                        sum += a[r][i][j] * v[r * p + j];
                    }
                    out[r * p + i] = sum;
                }
            }
        };
        BatchedLanczos.TopPairs batched = BatchedLanczos.topEigenpairs(operator, runs, p, k, settings, start, seeds,
                active, DataType.DOUBLE);
        assertEquals(null, batched.pairs()[4], "an inactive run has no pairs");
        assertEquals(0, products[4], "an inactive run gets no products");
        int fewest = Integer.MAX_VALUE;
        int most = 0;
        for (int r = 0; r < 4; r++) {
            INDArray first = r == 0 ? null : Nd4j.createFromArray(Arrays.copyOfRange(start, r * p, (r + 1) * p));
            EigenPairs expected = Lanczos.topEigenpairs(dense(a[r]), k, settings, first, seeds[r]);
            EigenPairs actual = batched.pairs()[r];
            assertEquals(null, batched.failures()[r]);
            assertEquals(expected.steps(), actual.steps(), "steps of run " + r);
            assertEquals(actual.steps(), products[r], "run " + r + " got a product per step and none after");
            fewest = Math.min(fewest, actual.steps());
            most = Math.max(most, actual.steps());
            double scale = Math.abs(expected.values()[0]);
            for (int j = 0; j < k; j++) {
                assertEquals(expected.values()[j], actual.values()[j], 1e-12 * scale, "value " + j + " of run " + r);
                assertEquals(expected.residuals()[j], actual.residuals()[j], 1e-9 * scale, "residual " + j + " of run " + r);
                INDArray y = actual.vectors().getColumn(j).dup().reshape(p, 1);
                double residual = Nd4j.createFromArray(a[r]).mmul(y).sub(y.mul(actual.values()[j])).norm2Number()
                        .doubleValue();
                assertTrue(residual <= 1e-7 * scale, "vector " + j + " of run " + r + " is an eigenvector: " + residual);
                if (r != 2) {                       // run 2's eigenvalues are multiple: its eigenvectors are not unique
                    double cosine = expected.vectors().getColumn(j).dup().mul(actual.vectors().getColumn(j)).sumNumber()
                            .doubleValue();
                    assertEquals(1, Math.abs(cosine), 1e-9, "vector " + j + " of run " + r + " (up to its sign)");
                }
            }
            assertEquals(expected.smallest(), actual.smallest(), 1e-10 * scale, "smallest of run " + r);
            assertEquals(DataType.DOUBLE, actual.vectors().dataType());
            assertArrayEquals(new long[] {p, k}, actual.vectors().shape());
        }
        assertTrue(fewest < most, "the runs converged after different numbers of steps: " + fewest + " and " + most);
        assertEquals(-1, batched.pairs()[2].smallest(), 1e-12, "run 2 found its bottom eigenvalue across the restart");
        assertEquals(3, batched.pairs()[2].values()[0], 1e-12, "and its top one");
    }

    /** Q diag(eigenvalues) Q^T for a random orthogonal Q. */
    private static double[][] rotated(double[] eigenvalues, SplittableRandom random) {
        int p = eigenvalues.length;
        double[][] m = new double[p][p];
        for (double[] row : m) {
            for (int j = 0; j < p; j++) {
                row[j] = random.nextGaussian();
            }
        }
        RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(m)).getQ();
        return q.multiply(new DiagonalMatrix(eigenvalues)).multiply(q.transpose()).getData();
    }

    private static double[] gaussian(int p, SplittableRandom random) {
        double[] v = new double[p];
        for (int i = 0; i < p; i++) {
            v[i] = random.nextGaussian();
        }
        return v;
    }

    private static SymmetricOperator dense(double[][] matrix) {
        int p = matrix.length;
        return new SymmetricOperator() {
            @Override
            public int dimension() {
                return p;
            }

            @Override
            public DataType dataType() {
                return DataType.DOUBLE;
            }

            @Override
            public void apply(INDArray v, INDArray out) {
                out.assign(Nd4j.createFromArray(matrix).mmul(v.reshape(p, 1)).reshape(p));
            }
        };
    }
}
