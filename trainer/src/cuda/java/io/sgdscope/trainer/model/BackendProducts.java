package io.sgdscope.trainer.model;

/** The batched products of the CUDA build (profile {@code cuda}): ND4J's batched matmul (cuBLAS). */
final class BackendProducts {

    private BackendProducts() {}

    static BatchedProducts create() {
        return new Nd4jBatchedProducts();
    }
}
