package io.sgdscope.trainer.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batched products through ND4J's {@code matmul} op on rank-3 arrays: works on every backend (on CUDA it is
 * cuBLAS's batched gemm). On the CPU backend of 1.0.0-M2.1 it costs about 1 us per matrix on top of the
 * gemm itself, which for the tiny per-run matrices of an ensemble is most of the time; the CPU build uses
 * {@code CblasBatchedProducts} instead.
 */
public final class Nd4jBatchedProducts implements BatchedProducts {

    @Override
    public void multiply(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB) {
        if (a.rank() == 2) {                                    // shared by every run: repeat it along the batch
            a = a.reshape(1, a.size(0), a.size(1)).repeat(0, c.size(0));
        }
        Nd4j.exec(DynamicCustomOp.builder("matmul")
                .addInputs(a, b)
                .addOutputs(c)
                .addIntegerArguments(transposeA ? 1 : 0, transposeB ? 1 : 0, 0)
                .addFloatingPointArguments(1.0, 0.0)
                .build());
    }
}
