package io.sgdscope.trainer.snapshot;

import io.sgdscope.trainer.model.MlpArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The network and data of a snapshot folder ({@code meta.json}, {@code X.npy}, {@code y.npy},
 * {@code W{l}.npy}, {@code b{l}.npy}, {@code theta0.npy}; see {@link SnapshotWriter}), read back
 * with ND4J's numpy reader and widened to float64.
 *
 * @param architecture the layers of meta.json
 * @param iteration    t
 * @param topK         k of the published top-k lists
 * @param priorSigma   sigma of Corollary 4
 * @param features     [n, d] float64
 * @param labels       n labels 0..k-1
 * @param theta        [p] float64, per layer W_l row-major then b_l
 * @param theta0       [p] float64, the initial parameters
 */
public record SnapshotData(MlpArchitecture architecture, int iteration, int topK, double priorSigma,
                           INDArray features, int[] labels, INDArray theta, INDArray theta0) {

    /** Reads a snapshot folder. */
    public static SnapshotData read(Path folder) throws IOException {
        SnapshotMeta meta = SnapshotMeta.read(folder.resolve(SnapshotWriter.META));
        MlpArchitecture architecture = new MlpArchitecture(meta.layers());
        INDArray features = npy(folder.resolve("X.npy")).castTo(DataType.DOUBLE);
        long[] y = npy(folder.resolve("y.npy")).castTo(DataType.LONG).toLongVector();
        int[] labels = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            labels[i] = Math.toIntExact(y[i]);
        }
        List<INDArray> blocks = new ArrayList<>();
        for (int l = 0; l < architecture.depth(); l++) {
            blocks.add(npy(folder.resolve("W" + l + ".npy")).castTo(DataType.DOUBLE).reshape(-1));
            blocks.add(npy(folder.resolve("b" + l + ".npy")).castTo(DataType.DOUBLE).reshape(-1));
        }
        INDArray theta = Nd4j.concat(0, blocks.toArray(INDArray[]::new));
        if (theta.length() != architecture.parameterCount()) {
            throw new IOException("the weights of " + folder + " hold " + theta.length() + " values, the layers "
                    + meta.layers() + " need " + architecture.parameterCount());
        }
        INDArray theta0 = npy(folder.resolve("theta0.npy")).castTo(DataType.DOUBLE).reshape(-1);
        return new SnapshotData(architecture, meta.iteration(), meta.topK(), meta.priorSigma(), features, labels, theta,
                theta0);
    }

    private static INDArray npy(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("missing snapshot file " + file);
        }
        return Nd4j.createFromNpyFile(file.toFile());
    }
}
