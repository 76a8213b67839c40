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

    /**
     * c[r] += op(a[r]) op(b[r]) for every r (as {@link #multiply}, accumulating into c instead of overwriting it:
     * a gemm with beta = 1, no temporary). This default forms the products in a temporary and adds them.
     */
    default void multiplyAdd(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB) {
        INDArray product = c.ulike();
        multiply(a, b, product, transposeA, transposeB);
        c.addi(product);
    }

    /**
     * {@link #multiply} ({@code add} false) or {@link #multiplyAdd} ({@code add} true) for the runs r with
     * {@code runs[r]} only (null: every run); what c[r] of the other runs holds afterwards is unspecified (this
     * default computes every run; a backend with one product per run skips the others').
     */
    default void multiply(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB, boolean add,
                          boolean[] runs) {
        if (add) {
            multiplyAdd(a, b, c, transposeA, transposeB);
        } else {
            multiply(a, b, c, transposeA, transposeB);
        }
    }

    /**
     * c[r] = a[r] a[r]^T for every r, a [R, n, k], c [R, n, n] (contiguous rows, one data type): at least the upper
     * triangle (j >= i) of each row-major c[r] is written, the rest is unspecified (a symmetric rank-k update where the
     * backend has one, half the multiplications of a product). This default writes the whole product.
     */
    default void selfProducts(INDArray a, INDArray c) {
        multiply(a, a, c, false, true);
    }
}
