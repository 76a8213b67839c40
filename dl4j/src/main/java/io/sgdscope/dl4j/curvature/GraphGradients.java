package io.sgdscope.dl4j.curvature;

import java.util.ArrayList;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientModel} of a {@link ComputationGraph} with one input and one output: the same as
 * {@link MultiLayerGradients} through the graph's {@code setInputs}, {@code setLabels} and
 * {@code computeGradientAndScore}. Graphs with dropout or weight noise are refused.
 */
final class GraphGradients implements GradientModel {

    private final ComputationGraph trained;
    private final ComputationGraph twin;
    private final int p;
    private final boolean miniBatch;

    GraphGradients(ComputationGraph trained) {
        this.trained = trained;
        if (trained.getNumInputArrays() != 1 || trained.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("the probes need a ComputationGraph with one input and one output, got "
                    + trained.getNumInputArrays() + " and " + trained.getNumOutputArrays());
        }
        Layer[] layers = trained.getLayers();
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("the DL4J network has no layers (call init() first)");
        }
        for (int l = 0; l < layers.length; l++) {
            MultiLayerGradients.requireDeterministic(l, layers[l].conf());
        }
        this.miniBatch = trained.getConfiguration().getDefaultConfiguration().isMiniBatch();
        // convertDataType returns the graph itself when it is float64 already: then a clone is the twin.
        this.twin = trained.params().dataType() == DataType.DOUBLE ? trained.clone()
                : trained.convertDataType(DataType.DOUBLE);
        this.twin.setListeners(new ArrayList<>());
        this.p = Math.toIntExact(twin.numParams());
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
        java.util.Map<String, INDArray> activations = twin.feedForward(features.castTo(DataType.DOUBLE), false);
        java.util.List<INDArray> hidden = new java.util.ArrayList<>();
        String output = twin.getConfiguration().getNetworkOutputs().get(0);
        for (Layer layer : twin.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (!name.equals(output)) {
                hidden.add(activations.get(name).gt(0.0).reshape(-1));
            }
        }
        return hidden.isEmpty() ? Nd4j.empty(DataType.BOOL) : Nd4j.concat(0, hidden.toArray(INDArray[]::new));
    }

    @Override
    public double lossAndGradient(INDArray features, INDArray labels, INDArray gradient) {
        long m = features.rows();
        if (labels.rows() != m) {
            throw new IllegalArgumentException("features have " + m + " rows, labels " + labels.rows());
        }
        twin.setInputs(features.castTo(DataType.DOUBLE));
        twin.setLabels(labels.castTo(DataType.DOUBLE));
        twin.computeGradientAndScore();
        // As in MultiLayerGradients: DL4J's gradient is the batch sum, its score the mean with miniBatch on.
        gradient.assign(twin.gradient().gradient().reshape(p)).divi(m);
        return miniBatch ? twin.score() : twin.score() / m;
    }
}
