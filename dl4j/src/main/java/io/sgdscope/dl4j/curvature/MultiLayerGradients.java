package io.sgdscope.dl4j.curvature;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientModel} of a {@link MultiLayerNetwork}: a float64 twin made by
 * {@link MultiLayerNetwork#convertDataType} or {@link MultiLayerNetwork#clone} (a new network with its own parameters, no listeners), whose
 * {@code computeGradientAndScore} gives f and grad f ({@link TwinGradients}). Networks whose gradient is random
 * (dropout, weight noise) are refused: a finite difference of two random gradients is no Hessian-vector product.
 */
final class MultiLayerGradients extends TwinGradients<MultiLayerNetwork> {

    MultiLayerGradients(MultiLayerNetwork trained) {
        super(trained, float64Twin(trained), miniBatch(trained.getLayers()));
    }

    /** Checks the network's layers, then its float64 copy. */
    private static MultiLayerNetwork float64Twin(MultiLayerNetwork trained) {
        requireDeterministic(trained.getLayers());
        // convertDataType returns the network itself when it is float64 already: then a clone is the twin.
        return trained.params().dataType() == DataType.DOUBLE ? trained.clone() : trained.convertDataType(DataType.DOUBLE);
    }

    /** The miniBatch setting of the layers: on only when every layer has it on. */
    private static boolean miniBatch(Layer[] layers) {
        boolean miniBatch = true;
        for (Layer layer : layers) {
            miniBatch &= layer.conf().isMiniBatch();
        }
        return miniBatch;
    }

    @Override
    protected void computeGradientAndScore(INDArray features, INDArray labels) {
        twin.setInput(features);
        twin.setLabels(labels);
        twin.computeGradientAndScore();
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
}
