package io.sgdscope.trainer.data;

import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A training set S = {(x_i, y_i)} (Eq. 1-2): features as an [n, d] float64 matrix (row i is x_i),
 * labels 0 .. k-1, and its provenance.
 *
 * <p>Treat it as read-only: the arrays are shared, not copied, so that every run of an experiment
 * trains on the very same data without n x d copies. Two datasets are equal only if they are the
 * same object (records compare arrays by identity).
 *
 * @param description where the data came from (n, d and k are read from it)
 * @param features    [n, d], {@link DataType#DOUBLE}, row i is sample x_i
 * @param labels      n labels y_i in 0 .. k-1 (the paper's 1 .. k shifted by one)
 */
public record Dataset(DatasetDescription description, INDArray features, int[] labels) {

    public Dataset {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        int n = description.samples();
        if (features.rank() != 2 || features.rows() != n || features.columns() != description.inputDimension()) {
            throw new IllegalArgumentException("features must be [n, d] = [" + n + ", " + description.inputDimension()
                    + "], got " + java.util.Arrays.toString(features.shape()));
        }
        if (features.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("features must be float64, got " + features.dataType());
        }
        if (labels.length != n) {
            throw new IllegalArgumentException("need one label per sample (n = " + n + "), got " + labels.length);
        }
        for (int label : labels) {
            if (label < 0 || label >= description.classes()) {
                throw new IllegalArgumentException("labels must be in 0.." + (description.classes() - 1) + ", got " + label);
            }
        }
    }

    /** Number of samples n. */
    public int samples() {
        return description.samples();
    }

    /** Input dimension d. */
    public int inputDimension() {
        return description.inputDimension();
    }

    /** Number of classes k. */
    public int classes() {
        return description.classes();
    }
}
