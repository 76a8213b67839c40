package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PrincipalAnglesTest {

    @Test
    void cosinesOfASubspaceWithItselfAreOne() {
        INDArray u = orthonormal(40, 6, 1L);
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, PrincipalAngles.cosines(u, u), 1e-12);
    }

    @Test
    void cosinesOfOrthogonalSubspacesAreZero() {
        INDArray q = orthonormal(40, 8, 2L);
        INDArray u = q.getColumns(0, 1, 2, 3);
        INDArray v = q.getColumns(4, 5, 6, 7);
        assertArrayEquals(new double[] {0, 0, 0, 0}, PrincipalAngles.cosines(u, v), 1e-12);
    }

    @Test
    void cosinesOfPlanesTurnedByKnownAnglesAreThoseAnglesCosinesLargestFirst() {
        // span(e1, e2) against span(cos a e1 + sin a e3, cos b e2 + sin b e4): principal angles a and b.
        double a = 0.3;
        double b = 1.1;
        INDArray u = Nd4j.create(DataType.DOUBLE, 5, 2);
        u.putScalar(0, 0, 1);
        u.putScalar(1, 1, 1);
        INDArray v = Nd4j.create(DataType.DOUBLE, 5, 2);
        v.putScalar(0, 0, Math.cos(a));
        v.putScalar(2, 0, Math.sin(a));
        v.putScalar(1, 1, Math.cos(b));
        v.putScalar(3, 1, Math.sin(b));
        assertArrayEquals(new double[] {Math.cos(a), Math.cos(b)}, PrincipalAngles.cosines(u, v), 1e-14);
    }

    /** Orthonormal columns from the Gram-Schmidt of a seeded random matrix (plain Java). */
    private static INDArray orthonormal(int p, int k, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        double[][] q = new double[k][p];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < p; i++) {
                q[j][i] = random.nextGaussian();
            }
            for (int pass = 0; pass < 2; pass++) {
                for (int m = 0; m < j; m++) {
                    double dot = 0;
                    for (int i = 0; i < p; i++) {
                        dot += q[j][i] * q[m][i];
                    }
                    for (int i = 0; i < p; i++) {
                        q[j][i] -= dot * q[m][i];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < p; i++) {
                norm += q[j][i] * q[j][i];
            }
            for (int i = 0; i < p; i++) {
                q[j][i] /= Math.sqrt(norm);
            }
        }
        return Nd4j.createFromArray(q).transpose().dup('c');
    }
}
