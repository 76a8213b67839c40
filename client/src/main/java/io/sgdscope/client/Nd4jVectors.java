package io.sgdscope.client;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The only class of the client that uses ND4J (an optional dependency): an INDArray's values as a float64
 * {@code double[]}, in the array's logical (row-major) order. Loaded only when a caller hands INDArrays over.
 */
final class Nd4jVectors {

    private Nd4jVectors() {}

    /** The values of {@code array} (any shape, any floating-point type, a view or not), widened to float64. */
    static double[] values(INDArray array) {
        INDArray vector = array.isVector() || array.isScalar() ? array : array.dup('c').reshape(array.length());
        if (vector.dataType() != DataType.DOUBLE) {
            vector = vector.castTo(DataType.DOUBLE);
        }
        return vector.toDoubleVector();
    }
}
