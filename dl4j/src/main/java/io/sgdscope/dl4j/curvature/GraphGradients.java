package io.sgdscope.dl4j.curvature;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientModel} of a {@link ComputationGraph} with one input and one output: the same as
 * {@link MultiLayerGradients} ({@link TwinGradients}) through the graph's {@code setInputs}, {@code setLabels} and
 * {@code computeGradientAndScore}. Graphs with dropout or weight noise are refused.
 */
final class GraphGradients extends TwinGradients<ComputationGraph> {

    GraphGradients(ComputationGraph trained) {
        super(trained, float64Twin(trained), trained.getConfiguration().getDefaultConfiguration().isMiniBatch());
    }

    /** Checks the graph's inputs, outputs and layers, then its float64 copy. */
    private static ComputationGraph float64Twin(ComputationGraph trained) {
        if (trained.getNumInputArrays() != 1 || trained.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("the probes need a ComputationGraph with one input and one output, got "
                    + trained.getNumInputArrays() + " and " + trained.getNumOutputArrays());
        }
        requireDeterministic(trained.getLayers());
        // convertDataType returns the graph itself when it is float64 already: then a clone is the twin.
        return trained.params().dataType() == DataType.DOUBLE ? trained.clone() : trained.convertDataType(DataType.DOUBLE);
    }

    @Override
    protected void computeGradientAndScore(INDArray features, INDArray labels) {
        twin.setInputs(features);
        twin.setLabels(labels);
        twin.computeGradientAndScore();
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
}
