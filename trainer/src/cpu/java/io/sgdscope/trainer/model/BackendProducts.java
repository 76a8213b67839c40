package io.sgdscope.trainer.model;

/** The batched products of the CPU build (profile {@code cpu}): one OpenBLAS gemm per run. */
final class BackendProducts {

    private BackendProducts() {}

    static BatchedProducts create() {
        return new CblasBatchedProducts();
    }
}
