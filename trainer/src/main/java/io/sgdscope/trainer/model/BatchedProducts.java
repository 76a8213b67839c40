package io.sgdscope.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batched matrix products c[r] = op(a[r]) op(b[r]) over the leading (run) dimension of rank-3 arrays,
 * the kernel of the ensemble engine ({@link BatchedMlp}). Which implementation runs is chosen by the
 * build, with the ND4J backend (a dependency swap, never a branch in the code): {@link BackendProducts}
 * comes from {@code src/cpu/java} in the default {@code cpu} profile and from {@code src/cuda/java} with
 * {@code -Pcuda}.
 */
public interface BatchedProducts {

    /**
     * c[r] = op(a[r]) op(b[r]) for every r, op = transpose or not; the arrays are contiguous, row-major
     * ('c') and of one data type, c already allocated with the result's shape. {@code a} may be a matrix
     * (rank 2) that every run shares: c[r] = op(a) op(b[r]).
     */
    void multiply(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB);
}
