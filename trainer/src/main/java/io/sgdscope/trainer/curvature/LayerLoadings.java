package io.sgdscope.trainer.curvature;

import io.sgdscope.trainer.model.MlpArchitecture;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Layer-wise loadings of eigenvectors (Sec. 4.4, Fig. 7). */
public final class LayerLoadings {

    private LayerLoadings() {}

    /**
     * For each column u of {@code vectors} [p, k]: the share of ||u||^2 in each layer (W_l and b_l
     * together), input layer first; each row sums to 1. (Fig. 7 also divides by the layer size; the
     * shares here are the raw ones, which a reader can divide by {@link MlpArchitecture} sizes.)
     */
    public static double[][] of(MlpArchitecture architecture, INDArray vectors) {
        int k = (int) vectors.columns();
        int depth = architecture.depth();
        double[][] loadings = new double[k][depth];
        for (int j = 0; j < k; j++) {
            INDArray u = vectors.getColumn(j);
            double total = 0;
            for (int l = 0; l < depth; l++) {
                int from = architecture.weightOffset(l);
                int to = architecture.biasOffset(l) + architecture.fanOut(l);
                double share = u.get(NDArrayIndex.interval(from, to)).norm2Number().doubleValue();
                loadings[j][l] = share * share;
                total += share * share;
            }
            for (int l = 0; l < depth; l++) {
                loadings[j][l] = total == 0 ? 0 : loadings[j][l] / total;
            }
        }
        return loadings;
    }
}
