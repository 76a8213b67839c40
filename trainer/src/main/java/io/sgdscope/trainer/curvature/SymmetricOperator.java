package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A symmetric linear map v -> A v on R^p, given only by its products (H_f, M_t, H_p, Sigma_t). */
public interface SymmetricOperator {

    /** p, the length of the vectors. */
    int dimension();

    /** Precision of the vectors {@link #apply} takes and writes. */
    DataType dataType();

    /**
     * Writes A v into {@code out}. Both are [p] vectors of {@link #dataType()} (views allowed);
     * {@code v} is not changed and must not be the same array as {@code out}.
     */
    void apply(INDArray v, INDArray out);
}
