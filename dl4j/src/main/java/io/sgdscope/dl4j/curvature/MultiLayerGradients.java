package io.sgdscope.dl4j.curvature;

import java.util.ArrayList;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientModel} of a {@link MultiLayerNetwork}: a float64 twin made by
 * {@link MultiLayerNetwork#convertDataType} or {@link MultiLayerNetwork#clone} (a new network with its own parameters, no listeners), whose
 * {@code computeGradientAndScore} gives f and grad f. Networks whose gradient is random (dropout, weight
 * noise) are refused: a finite difference of two random gradients is no Hessian-vector product.
 */
final class MultiLayerGradients implements GradientModel {

    private final MultiLayerNetwork trained;
    private final MultiLayerNetwork twin;
    private final int p;
    private final boolean miniBatch;

    MultiLayerGradients(MultiLayerNetwork trained) {
        this.trained = trained;
        Layer[] layers = trained.getLayers();
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("the DL4J network has no layers (call init() first)");
        }
        boolean miniBatch = true;
        for (int l = 0; l < layers.length; l++) {
            requireDeterministic(l, layers[l].conf());
            miniBatch &= layers[l].conf().isMiniBatch();
        }
        this.miniBatch = miniBatch;
        // convertDataType returns the network itself when it is float64 already: then a clone is the twin.
        this.twin = trained.params().dataType() == DataType.DOUBLE ? trained.clone()
                : trained.convertDataType(DataType.DOUBLE);
        this.twin.setListeners(new ArrayList<>());
        this.p = Math.toIntExact(twin.numParams());
    }

    /** Refuses a layer whose gradient is random (dropout, weight noise), with a one-line message. */
    static void requireDeterministic(int l, NeuralNetConfiguration conf) {
        if (conf.getLayer().getIDropout() != null) {
            throw new IllegalArgumentException("layer " + l + " has dropout: the probes need a deterministic gradient");
        }
        if (conf.getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer base && base.getWeightNoise() != null) {
            throw new IllegalArgumentException("layer " + l + " has weight noise: the probes need a deterministic gradient");
        }
    }

    @Override
    public int parameterCount() {
        return p;
    }

    @Override
    public void synchronize() {
        twin.params().assign(trained.params().castTo(DataType.DOUBLE).reshape(twin.params().shape()));
    }

    @Override
    public INDArray parameters() {
        return twin.params().dup().reshape(p);
    }

    @Override
    public void setParameters(INDArray theta) {
        if (theta.length() != p) {
            throw new IllegalArgumentException("need p = " + p + " parameters, got " + theta.length());
        }
        twin.params().assign(theta.castTo(DataType.DOUBLE).reshape(twin.params().shape()));
    }

    @Override
    public INDArray activePattern(INDArray features) {
        java.util.List<INDArray> activations = twin.feedForward(features.castTo(DataType.DOUBLE), false);
        // [input, hidden layer 0, ..., output]: the hidden layers only.
        INDArray[] hidden = new INDArray[activations.size() - 2];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = activations.get(i + 1).gt(0.0).reshape(-1);
        }
        return hidden.length == 0 ? Nd4j.empty(DataType.BOOL) : Nd4j.concat(0, hidden);
    }

    @Override
    public double lossAndGradient(INDArray features, INDArray labels, INDArray gradient) {
        long m = features.rows();
        if (labels.rows() != m) {
            throw new IllegalArgumentException("features have " + m + " rows, labels " + labels.rows());
        }
        twin.setInput(features.castTo(DataType.DOUBLE));
        twin.setLabels(labels.castTo(DataType.DOUBLE));
        twin.computeGradientAndScore();
        // DL4J's gradient is the sum over the batch (its updater divides by the batch size when miniBatch is on);
        // its score is the mean with miniBatch on, the sum with it off. f is the mean (Eq. 3).
        gradient.assign(twin.gradient().gradient().reshape(p)).divi(m);
        return miniBatch ? twin.score() : twin.score() / m;
    }
}
