package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;

/**
 * {@link TridiagonalTop} against Commons Math's full tridiagonal eigendecomposition (QL, float64): the largest
 * eigenvalue and the last entry of its unit eigenvector, on random tridiagonals of order 1-60 (Lanczos-like: positive
 * off-diagonals, a dominant top eigenvalue), on ones with a zero off-diagonal entry (decoupled blocks), a top
 * eigenvalue with a tiny last eigenvector entry (a converged Ritz pair: the entry that decides the convergence test)
 * and on mixed-sign and scaled ones.
 */
class TridiagonalTopTest {

    private static void check(double[] alpha, double[] beta, int m, String what) {
        EigenDecomposition reference = new EigenDecomposition(java.util.Arrays.copyOf(alpha, m),
                java.util.Arrays.copyOf(beta, Math.max(0, m - 1)));
        double[] values = reference.getRealEigenvalues();
        int top = 0;
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 1; i < m; i++) {
            if (values[i] > values[top]) {
                top = i;
            }
        }
        double scale = 0;
        for (int i = 0; i < m; i++) {
            scale = Math.max(scale, Math.abs(values[i]));
            if (i != top) {
                second = Math.max(second, values[i]);
            }
        }
        TridiagonalTop found = TridiagonalTop.of(alpha, beta, m);
        assertEquals(values[top], found.value(), 1e-14 * scale, what + ": the largest eigenvalue");
        double entry = Math.abs(reference.getEigenvector(top).getEntry(m - 1));
        double gap = m > 1 ? (values[top] - second) / scale : 1;
        // The eigenvector is determined to about eps / gap; entries far below that are rounding either way.
        double tolerance = 1e-9 * entry + 1e-14 / Math.max(gap, 1e-6);
        assertEquals(entry, Math.abs(found.lastEntry()), tolerance, what + ": the last eigenvector entry");
    }

    @Test
    void lanczosLikeTridiagonalsOfEveryOrder() {
        SplittableRandom random = new SplittableRandom(41);
        for (int m = 1; m <= 60; m++) {
            for (int trial = 0; trial < 5; trial++) {
                double[] alpha = new double[m];
                double[] beta = new double[m];
                for (int i = 0; i < m; i++) {
                    alpha[i] = Math.exp(-0.3 * i) * (1 + random.nextDouble());              // decaying, PSD-like
                    beta[i] = 0.3 * Math.exp(-0.3 * i) * random.nextDouble();
                }
                check(alpha, beta, m, "order " + m + ", trial " + trial);
            }
        }
    }

    @Test
    void mixedSignsScalesAndDecoupledBlocks() {
        SplittableRandom random = new SplittableRandom(43);
        for (int trial = 0; trial < 200; trial++) {
            int m = 2 + random.nextInt(30);
            double scale = Math.pow(10, random.nextInt(-8, 9));
            double[] alpha = new double[m];
            double[] beta = new double[m];
            for (int i = 0; i < m; i++) {
                alpha[i] = scale * (random.nextDouble() * 2 - 1);
                beta[i] = scale * (random.nextDouble() * 2 - 1);
            }
            if (trial % 4 == 0) {
                beta[random.nextInt(m - 1)] = 0;                                            // an invariant subspace
            }
            check(alpha, beta, m, "trial " + trial + " (scale " + scale + ")");
        }
    }

    @Test
    void aConvergedTopPairHasItsTinyLastEntry() {
        // T with a well separated top eigenvalue whose eigenvector lives in the first rows: its last entry decays
        // geometrically (about 1e-2 per row here), as a converged Ritz vector's does.
        int m = 12;
        double[] alpha = new double[m];
        double[] beta = new double[m];
        alpha[0] = 10;
        for (int i = 1; i < m; i++) {
            alpha[i] = 1.0 / i;
        }
        for (int i = 0; i < m - 1; i++) {
            beta[i] = 0.1;
        }
        check(alpha, beta, m, "graded");
        double entry = Math.abs(TridiagonalTop.of(alpha, beta, m).lastEntry());
        assertEquals(0, entry, 1e-10, "the last entry is tiny");
    }

    @Test
    void anEmptyMatrixIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> TridiagonalTop.of(new double[0], new double[0], 0));
    }
}
