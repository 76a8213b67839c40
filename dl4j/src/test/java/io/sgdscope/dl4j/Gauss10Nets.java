package io.sgdscope.dl4j;

import io.sgdscope.trainer.data.Dataset;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * DL4J nets of the built-in trainer's shape (fully connected ReLU, softmax cross-entropy, float64, SGD, no
 * regularisation) with the built-in trainer's parameters copied in, and its data as DL4J DataSets.
 */
final class Gauss10Nets {

    private Gauss10Nets() {}

    /** A MultiLayerNetwork of widths [d, h1, ..., k] with theta in the trainer's layout (per layer W row-major, b). */
    static MultiLayerNetwork multiLayer(List<Integer> widths, double learningRate, double[] theta) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).updater(new Sgd(learningRate)).seed(1).list();
        for (int l = 0; l + 1 < widths.size(); l++) {
            list.layer(layer(widths, l));
        }
        MultiLayerConfiguration configuration = list.build();
        MultiLayerNetwork network = new MultiLayerNetwork(configuration);
        network.init();
        copyParameters(widths, theta, (l, name, value) -> network.getLayer(l).setParam(name, value));
        return network;
    }

    /** The same net as a ComputationGraph (a chain of layer vertices "l0", "l1", ...). */
    static ComputationGraph graph(List<Integer> widths, double learningRate, double[] theta) {
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE).updater(new Sgd(learningRate)).seed(1).graphBuilder().addInputs("in");
        String previous = "in";
        for (int l = 0; l + 1 < widths.size(); l++) {
            graph.addLayer("l" + l, layer(widths, l), previous);
            previous = "l" + l;
        }
        ComputationGraph network = new ComputationGraph(graph.setOutputs(previous).build());
        network.init();
        copyParameters(widths, theta, (l, name, value) -> network.getLayer("l" + l).setParam(name, value));
        return network;
    }

    private static org.deeplearning4j.nn.conf.layers.Layer layer(List<Integer> widths, int l) {
        boolean last = l + 2 == widths.size();
        if (last) {
            return new OutputLayer.Builder(new LossMCXENT(0.0, null)).nIn(widths.get(l)).nOut(widths.get(l + 1))
                    .activation(Activation.SOFTMAX).build();
        }
        return new DenseLayer.Builder().nIn(widths.get(l)).nOut(widths.get(l + 1)).activation(Activation.RELU).build();
    }

    private interface ParamSetter {
        void set(int layer, String name, INDArray value);
    }

    private static void copyParameters(List<Integer> widths, double[] theta, ParamSetter setter) {
        int offset = 0;
        for (int l = 0; l + 1 < widths.size(); l++) {
            int in = widths.get(l);
            int out = widths.get(l + 1);
            double[] w = java.util.Arrays.copyOfRange(theta, offset, offset + in * out);
            offset += in * out;
            double[] b = java.util.Arrays.copyOfRange(theta, offset, offset + out);
            offset += out;
            setter.set(l, "W", Nd4j.create(w, new long[] {in, out}, 'c'));
            setter.set(l, "b", Nd4j.create(b, new long[] {1, out}, 'c'));
        }
    }

    /** The samples {@code indices} of {@code data} (repeats allowed) with one-hot labels. */
    static DataSet batch(Dataset data, int[] indices) {
        int k = data.classes();
        INDArray features = Nd4j.create(DataType.DOUBLE, indices.length, data.inputDimension());
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, indices.length, k);
        for (int i = 0; i < indices.length; i++) {
            features.putRow(i, data.features().getRow(indices[i]));
            labels.putScalar(i, data.labels()[indices[i]], 1.0);
        }
        return new DataSet(features, labels);
    }

    /** Every sample of {@code data}, in order. */
    static DataSet all(Dataset data) {
        int[] indices = new int[data.samples()];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = i;
        }
        return batch(data, indices);
    }
}
