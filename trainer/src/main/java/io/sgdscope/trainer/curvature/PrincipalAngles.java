package io.sgdscope.trainer.curvature;

import java.util.Arrays;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Principal angles between subspaces (Eq. 13, App. B.2.1). */
public final class PrincipalAngles {

    private PrincipalAngles() {}

    /**
     * cos(gamma_i) = the singular values of U^T V (Eq. 13), largest first, for U [p, a] and V [p, b]
     * with orthonormal columns (e.g. the top-k eigenvectors of H_f and M_t); min(a, b) values.
     * U^T V in float64 (ND4J), its SVD by Apache Commons Math.
     */
    public static double[] cosines(INDArray u, INDArray v) {
        if (u.rows() != v.rows()) {
            throw new IllegalArgumentException("subspaces of different spaces: " + u.rows() + " and " + v.rows());
        }
        INDArray product = Nd4j.create(DataType.DOUBLE, new long[] {u.columns(), v.columns()}, 'f');
        Nd4j.gemm(u.castTo(DataType.DOUBLE), v.castTo(DataType.DOUBLE), product, true, false, 1.0, 0.0);
        double[] singular = new SingularValueDecomposition(new Array2DRowRealMatrix(product.toDoubleMatrix()))
                .getSingularValues();
        double[] cosines = Arrays.copyOf(singular, (int) Math.min(u.columns(), v.columns()));
        for (int i = 0; i < cosines.length; i++) {
            cosines[i] = Math.min(1.0, cosines[i]);   // rounding can put a cosine a few ulps above 1
        }
        return cosines;
    }
}
