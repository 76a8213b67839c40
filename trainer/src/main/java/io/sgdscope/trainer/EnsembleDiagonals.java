package io.sgdscope.trainer;

import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedMlp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The exact mu_t (Eq. 4) and diag(M_t) (Eq. 7) of every run of an {@link EnsembleBlock}, for the diagonal
 * preconditioner of Eq. 36 at the moments iterations: computed <b>run by run</b>, with the per-run engine's own
 * code ({@link NetworkCurvature#gradient}, {@link NetworkCurvature#secondMomentDiagonal}, one network moved from
 * run to run), so both engines hand the preconditioner the same vectors. (The block's batched per-sample signals
 * would give them too; the per-run pass keeps this out of the batched curvature code and costs one full-data pass
 * per run and moments iteration.) In the network's data type. Not thread-safe: one per block.
 */
final class EnsembleDiagonals implements AutoCloseable {

    private final BatchedMlp model;
    private final Dataset data;
    private final DataType type;
    private NetworkCurvature network;

    EnsembleDiagonals(BatchedMlp model, Dataset data, DataType type) {
        this.model = model;
        this.data = data;
        this.type = type;
    }

    /**
     * mu_t and diag(M_t) of the given runs at the model's current parameters, in the model's row form
     * ({@link BatchedMlp#rowsFromTheta}); zero rows for the others.
     *
     * @return {mu, diag(M)}
     */
    INDArray[] at(boolean[] which) {
        int runs = model.runs();
        double[][] mu = new double[runs][];
        double[][] diagonal = new double[runs][];
        for (int r = 0; r < runs; r++) {
            if (!which[r]) {
                continue;
            }
            INDArray theta = Nd4j.createFromArray(model.parametersAsDoubles(r)).castTo(type);
            if (network == null) {
                network = NetworkCurvature.classifier(model.architecture(), theta, data.features(), data.labels(), type);
            } else {
                network.freeze(theta);
            }
            mu[r] = network.gradient().toDoubleVector();                               // Eq. 4
            diagonal[r] = network.secondMomentDiagonal().toDoubleVector();             // Eq. 7, diag(M_t)
        }
        return new INDArray[] {model.rowsFromTheta(mu), model.rowsFromTheta(diagonal)};
    }

    @Override
    public void close() {
        if (network != null) {
            network.close();
            network = null;
        }
    }
}
