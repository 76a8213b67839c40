package io.sgdscope.dl4j.curvature;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.snapshot.SnapshotWriter;
import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Snapshot folders of a DL4J network ({@code docs/snapshots.md}: meta.json, X.npy, y.npy, W{l}.npy,
 * b{l}.npy, theta0.npy, published.json), written by the trainer's {@link SnapshotWriter} after mapping
 * DL4J's parameter order to the trainer's ({@link ParameterLayout}) and its one-hot labels to class
 * indices. Only networks the format describes are accepted: dense ReLU layers and a softmax output
 * layer with the cross-entropy loss (MCXENT or negative log-likelihood), each with biases.
 *
 * <p>The offline checks recompute f from X, y and the weights and compare it with the published loss:
 * give the examples that loss was computed on (the probe set, the whole training set when it fits).
 */
public final class Dl4jSnapshots {

    private Dl4jSnapshots() {}

    /**
     * Writes {@code root/<runId>/<t>/} for {@code net} at its current parameters theta_t.
     *
     * @param theta0   theta_0 in DL4J's order, [p]
     * @param features [n, d] the examples, written in their own data type
     * @param labels   [n, k] one-hot labels
     * @param metrics  the IterationMetrics published for t
     * @param spectrum the SpectrumSnapshot published for t, or null
     * @return the folder
     */
    public static Path write(Path root, String runId, int t, MultiLayerNetwork net, INDArray theta0, INDArray features,
                             INDArray labels, int topK, double priorSigma, IterationMetrics metrics,
                             SpectrumSnapshot spectrum) throws IOException {
        return write(root, runId, t, net, net.params(), theta0, features, labels, topK, priorSigma, metrics, spectrum);
    }

    /**
     * As {@link #write(Path, String, int, MultiLayerNetwork, INDArray, INDArray, INDArray, int, double,
     * IterationMetrics, SpectrumSnapshot)} with theta_t given in DL4J's order ([p] or [1, p]) instead of read from
     * {@code net} (a listener writes theta_t after the update has moved the net on to theta_{t+1}).
     */
    public static Path write(Path root, String runId, int t, MultiLayerNetwork net, INDArray theta, INDArray theta0,
                             INDArray features, INDArray labels, int topK, double priorSigma, IterationMetrics metrics,
                             SpectrumSnapshot spectrum) throws IOException {
        ParameterLayout layout = ParameterLayout.of(net);
        requireReluSoftmaxCrossEntropy(net);
        if (features.rows() != labels.rows()) {
            throw new IllegalArgumentException("features have " + features.rows() + " rows, labels " + labels.rows());
        }
        return SnapshotWriter.write(root, runId, t, layout.architecture(), features, classes(labels),
                layout.toTrainer(theta), layout.toTrainer(theta0), topK, priorSigma, metrics, spectrum);
    }

    /** The class index of each one-hot row of [n, k] labels; anything but one 1 and zeros is refused. */
    static int[] classes(INDArray labels) {
        if (labels.rank() != 2) {
            throw new IllegalArgumentException("labels must be one-hot [n, k], got rank " + labels.rank());
        }
        double[][] rows = labels.toDoubleMatrix();
        int[] classes = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            int index = -1;
            for (int c = 0; c < rows[i].length; c++) {
                double value = rows[i][c];
                if (value == 1.0 && index < 0) {
                    index = c;
                } else if (value != 0.0) {
                    throw new IllegalArgumentException("label row " + i + " is not one-hot");
                }
            }
            if (index < 0) {
                throw new IllegalArgumentException("label row " + i + " is not one-hot");
            }
            classes[i] = index;
        }
        return classes;
    }

    private static void requireReluSoftmaxCrossEntropy(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        for (int l = 0; l < layers.length; l++) {
            BaseLayer conf = (BaseLayer) layers[l].conf().getLayer();
            boolean last = l == layers.length - 1;
            boolean ok = last ? conf.getActivationFn() instanceof ActivationSoftmax
                    && ((OutputLayer) conf).getLossFn() instanceof LossMCXENT
                    : conf.getActivationFn() instanceof ActivationReLU;
            if (!ok) {
                throw new IllegalArgumentException("snapshot folders describe relu layers with a softmax cross-entropy "
                        + "output; layer " + l + " has " + conf.getActivationFn()
                        + (last ? " and " + ((OutputLayer) conf).getLossFn() : ""));
            }
        }
    }
}
