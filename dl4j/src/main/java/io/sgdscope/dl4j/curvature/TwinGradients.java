package io.sgdscope.dl4j.curvature;

import java.util.ArrayList;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What the {@link GradientModel}s of a {@link org.deeplearning4j.nn.multilayer.MultiLayerNetwork} and of a
 * {@link org.deeplearning4j.nn.graph.ComputationGraph} share: the float64 twin's parameters (copied in from the
 * trained network, set, read) and f, grad f from its {@code computeGradientAndScore}. A subclass makes the twin and
 * hands a batch to it, the only DL4J calls that differ. Precision: float64 throughout. Not thread-safe.
 *
 * @param <N> the DL4J network type
 */
abstract class TwinGradients<N extends Model> implements GradientModel {

    private final N trained;
    /** The float64 copy the probes evaluate; a new network with its own parameters and no listeners. */
    protected final N twin;
    private final int p;
    private final boolean miniBatch;

    /**
     * @param trained   the network being trained, never changed here
     * @param twin      its float64 copy
     * @param miniBatch DL4J's {@code miniBatch} setting: its score is the batch mean when on, the sum when off
     */
    TwinGradients(N trained, N twin, boolean miniBatch) {
        this.trained = trained;
        this.twin = twin;
        this.twin.setListeners(new ArrayList<>());
        this.p = Math.toIntExact(twin.numParams());
        this.miniBatch = miniBatch;
    }

    /** Refuses a network without layers, or with a layer whose gradient is random (dropout, weight noise). */
    static void requireDeterministic(Layer[] layers) {
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("the DL4J network has no layers (call init() first)");
        }
        for (int l = 0; l < layers.length; l++) {
            requireDeterministic(l, layers[l].conf());
        }
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

    /** Sets the twin's input and labels (float64) and runs its {@code computeGradientAndScore}. */
    protected abstract void computeGradientAndScore(INDArray features, INDArray labels);

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
    public double lossAndGradient(INDArray features, INDArray labels, INDArray gradient) {
        long m = features.rows();
        if (labels.rows() != m) {
            throw new IllegalArgumentException("features have " + m + " rows, labels " + labels.rows());
        }
        computeGradientAndScore(features.castTo(DataType.DOUBLE), labels.castTo(DataType.DOUBLE));
        // DL4J's gradient is the sum over the batch (its updater divides by the batch size when miniBatch is on);
        // its score is the mean with miniBatch on, the sum with it off. f is the mean (Eq. 3).
        gradient.assign(twin.gradient().gradient().reshape(p)).divi(m);
        return miniBatch ? twin.score() : twin.score() / m;
    }
}
