package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dense p x p curvature matrices and their full spectra, for small p only (the paper's Gauss-k
 * nets: p = 902, 1150; Fig. 1). Built in float64 from the exact matrix-free products (column j of
 * A is A e_j), symmetrised, and diagonalised by LAPACK's symmetric eigensolver (syev) through ND4J.
 */
public final class DenseCurvature {

    /** The largest p for which dense matrices are formed (p^2 doubles: 128 MiB at 4096). */
    public static final int MAX_DENSE_PARAMETERS = 4096;

    private DenseCurvature() {}

    /** The dense matrix of a symmetric operator, p products, symmetrised ((A + A^T) / 2), float64. */
    public static INDArray matrix(SymmetricOperator operator) {
        int p = operator.dimension();
        if (p > MAX_DENSE_PARAMETERS) {
            throw new IllegalArgumentException("a dense " + p + " x " + p + " matrix is too large (p <= "
                    + MAX_DENSE_PARAMETERS + ")");
        }
        INDArray matrix = Nd4j.create(DataType.DOUBLE, p, p);
        INDArray unit = Nd4j.create(operator.dataType(), p);
        INDArray column = Nd4j.create(operator.dataType(), p);
        for (int j = 0; j < p; j++) {
            unit.putScalar(j, 1.0);
            operator.apply(unit, column);
            unit.putScalar(j, 0.0);
            matrix.getColumn(j).assign(column.castTo(DataType.DOUBLE));
        }
        return matrix.add(matrix.transpose().dup()).muli(0.5);
    }

    /** All eigenvalues of a symmetric matrix, ascending (the matrix is left unchanged). */
    public static double[] eigenvalues(INDArray symmetric) {
        INDArray copy = symmetric.castTo(DataType.DOUBLE).dup('c');
        return Eigen.symmetricGeneralizedEigenvalues(copy, false).toDoubleVector();
    }

    /** ||A||_F of a dense matrix. */
    public static double frobenius(INDArray matrix) {
        return matrix.norm2Number().doubleValue();
    }
}
