package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientMoments#largestEigenvalue} (Lanczos with full reorthogonalisation, the ||Sigma||_2 of Eq. 4-7 from
 * the centred Gram C G C) against two independent dense float64 references: LAPACK's full dsyev through ND4J (what
 * {@link GradientMoments#fromGram} used before) and Commons Math's SingularValueDecomposition (||A||_2 = lambda_max for PSD A); for random Gram matrices
 * J J^T of full and deficient rank, and for PSD matrices Q diag(lambda) Q^T with clustered and repeated top
 * eigenvalues. And the whole {@link GradientMoments#fromGram} against moments computed from Sigma = (1/n) J^T C J
 * formed densely.
 */
class GramTopEigenvalueTest {

    private static double[] gram(double[][] j) {
        int n = j.length;
        double[] g = new double[n * n];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                double s = 0;
                for (int k = 0; k < j[a].length; k++) {
                    s += j[a][k] * j[b][k];
                }
                g[a * n + b] = s;
            }
        }
        return g;
    }

    private static double[][] gaussian(Random random, int rows, int cols, double scale) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int k = 0; k < cols; k++) {
                row[k] = scale * random.nextGaussian();
            }
        }
        return m;
    }

    private static double[] centred(double[] g, int n) {
        double[] c = new double[n * n];
        double[] row = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                row[i] += g[i * n + j];
            }
            total += row[i];
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                c[i * n + j] = g[i * n + j] - row[i] / n - row[j] / n + total / ((double) n * n);
            }
        }
        return c;
    }

    private static double commonsMathTop(double[] a, int n) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n, m[i], 0, n);
        }
        // PSD up to rounding: ||A||_2 = lambda_max (Commons Math's dense EigenDecomposition does not converge on some
        // rank-deficient centred Grams, its SVD does)
        return new SingularValueDecomposition(new Array2DRowRealMatrix(m, false)).getSingularValues()[0];
    }

    private static double dsyevTop(double[] a, int n) {
        INDArray matrix = Nd4j.createFromArray(a).reshape(n, n).castTo(DataType.DOUBLE).dup('f');
        INDArray values = Nd4j.create(DataType.DOUBLE, n);
        Nd4j.getBlasWrapper().lapack().syev('N', 'U', matrix, values);
        return values.maxNumber().doubleValue();
    }

    private static void assertTop(double[] a, int n, String what) {
        double found = GradientMoments.largestEigenvalue(a, n);
        double lapack = dsyevTop(a, n);
        double commons = commonsMathTop(a, n);
        assertEquals(lapack, commons, 1e-12 * Math.abs(lapack), what + ": the two references");
        assertEquals(lapack, found, 1e-12 * Math.abs(lapack), what + ": Lanczos vs dsyev");
        assertEquals(commons, found, 1e-12 * Math.abs(commons), what + ": Lanczos vs Commons Math");
    }

    @Test
    void randomCentredGramsOfFullAndDeficientRank() {
        Random random = new Random(11);
        int[][] shapes = {{100, 1150}, {100, 40}, {64, 64}, {37, 500}, {120, 7}, {2, 3}, {1, 5}};
        for (int[] shape : shapes) {
            int n = shape[0];
            double[][] j = gaussian(random, n, shape[1], 1e-2);
            for (int row = 0; row < n; row++) {                                        // a common mean gradient
                for (int k = 0; k < shape[1]; k++) {
                    j[row][k] += 0.05 * Math.sin(k);
                }
            }
            assertTop(centred(gram(j), n), n, "n = " + n + ", p = " + shape[1]);
        }
    }

    @Test
    void clusteredAndRepeatedTopEigenvalues() {
        Random random = new Random(5);
        int n = 90;
        RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(gaussian(random, n, n, 1))).getQ();
        double[][] spectra = new double[4][n];
        for (int i = 0; i < n; i++) {
            double tail = 0.5 * Math.pow(0.9, i);
            spectra[0][i] = i < 3 ? 1 - 1e-10 * i : tail;                             // cluster within 2e-10
            spectra[1][i] = i < 5 ? 1 : tail;                                          // five-fold top eigenvalue
            spectra[2][i] = i < 2 ? 1 - 1e-6 * i : tail;                               // gap 1e-6
            spectra[3][i] = 1 - 1e-3 * i / n;                                          // flat spectrum, no decay
        }
        for (double[] lambda : spectra) {
            double[] a = new double[n * n];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < n; c++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) {
                        s += q.getEntry(r, k) * lambda[k] * q.getEntry(c, k);
                    }
                    a[r * n + c] = s;
                }
            }
            for (int r = 0; r < n; r++) {                                              // exactly symmetric
                for (int c = 0; c < r; c++) {
                    a[r * n + c] = a[c * n + r];
                }
            }
            assertTop(a, n, "spectrum starting " + lambda[0] + ", " + lambda[1] + ", " + lambda[2]);
            assertEquals(1.0, GradientMoments.largestEigenvalue(a, n), 1e-12, "the constructed top eigenvalue");
        }
    }

    @Test
    void fromGramAgainstDenseSigma() {
        Random random = new Random(23);
        int n = 60;
        int p = 45;
        double[][] j = gaussian(random, n, p, 0.1);
        for (int row = 0; row < n; row++) {
            for (int k = 0; k < p; k++) {
                j[row][k] += 0.2 * Math.cos(k);
            }
        }
        double[] mu = new double[p];
        for (double[] row : j) {
            for (int k = 0; k < p; k++) {
                mu[k] += row[k] / n;
            }
        }
        double[][] sigma = new double[p][p];                                           // (1/n) sum (g_i - mu)(g_i - mu)^T
        for (double[] row : j) {
            for (int a = 0; a < p; a++) {
                for (int b = 0; b < p; b++) {
                    sigma[a][b] += (row[a] - mu[a]) * (row[b] - mu[b]) / n;
                }
            }
        }
        double muSq = 0;
        double trace = 0;
        double frob = 0;
        double muSigmaMu = 0;
        for (int a = 0; a < p; a++) {
            muSq += mu[a] * mu[a];
            trace += sigma[a][a];
            for (int b = 0; b < p; b++) {
                frob += sigma[a][b] * sigma[a][b];
                muSigmaMu += mu[a] * sigma[a][b] * mu[b];
            }
        }
        double spectral = new SingularValueDecomposition(new Array2DRowRealMatrix(sigma)).getSingularValues()[0];
        GradientMoments m = GradientMoments.fromGram(gram(j), n);
        assertEquals(muSq, m.gradNormSq(), 1e-12 * muSq);
        assertEquals(trace + muSq, m.traceM(), 1e-12 * (trace + muSq));
        assertEquals(trace, m.traceSigma(), 1e-11 * trace);
        assertEquals(Math.sqrt(frob), m.sigmaFrobenius(), 1e-11 * Math.sqrt(frob));
        assertEquals(spectral, m.sigmaSpectral(), 1e-11 * spectral);
        assertEquals(Math.sqrt(muSigmaMu), m.sigmaHalfMuNorm(), 1e-10 * Math.sqrt(muSigmaMu));
    }
}
