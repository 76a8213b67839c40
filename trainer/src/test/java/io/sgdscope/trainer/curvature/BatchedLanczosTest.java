package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
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
            SymmetricOperator single = new SymmetricOperator() {
                @Override
                public int dimension() {
                    return P;
                }

                @Override
                public DataType dataType() {
                    return DataType.DOUBLE;
                }

                @Override
                public void apply(INDArray v, INDArray out) {
                    out.assign(Nd4j.createFromArray(matrix).mmul(v.reshape(P, 1)).reshape(P));
                }
            };
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
}
