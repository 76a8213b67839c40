package io.sgdscope.dl4j;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;

/** What the listener reads from a DL4J network's configuration: its layers' updaters, regularisation, precision. */
final class Dl4jNetwork {

    private Dl4jNetwork() {}

    /** The layers of a MultiLayerNetwork or ComputationGraph. */
    static Layer[] layers(Model model) {
        if (model instanceof MultiLayerNetwork network) {
            return network.getLayers();
        }
        if (model instanceof ComputationGraph graph) {
            return graph.getLayers();
        }
        throw new IllegalArgumentException("the listener watches a MultiLayerNetwork or a ComputationGraph, not a "
                + model.getClass().getSimpleName());
    }

    /** The trained layers' configurations (those with an updater). */
    static List<BaseLayer> trainedLayers(Model model) {
        List<BaseLayer> trained = new ArrayList<>();
        for (Layer layer : layers(model)) {
            if (layer.numParams() > 0 && layer.conf().getLayer() instanceof BaseLayer base) {
                trained.add(base);
            }
        }
        return trained;
    }

    /**
     * Refuses a network whose updater adds regularisation (L1, L2, weight decay): DL4J adds it to the step inside its
     * updater, after the gradient the listener reads, so g_t would not be the gradient of the loss that was minimised.
     */
    static void requireNoRegularization(Model model) {
        for (BaseLayer layer : trainedLayers(model)) {
            if (!empty(layer.getRegularization()) || !empty(layer.getRegularizationBias())) {
                throw new IllegalArgumentException("layer " + layer.getLayerName() + " has regularisation ("
                        + layer.getRegularization() + ", bias " + layer.getRegularizationBias() + "): the listener "
                        + "publishes the gradient of the unregularised loss; configure the net without it");
            }
        }
    }

    /** The learning rate eta_t of the first trained layer's updater at this iteration and epoch (NaN if it has none). */
    static double learningRate(Model model, int iteration, int epoch) {
        for (BaseLayer layer : trainedLayers(model)) {
            IUpdater updater = layer.getIUpdater();
            if (updater != null && updater.hasLearningRate()) {
                return updater.getLearningRate(iteration, epoch);
            }
        }
        return Double.NaN;
    }

    /** The updater's name, e.g. "sgd", "adam", for the RunStarted. */
    static String updaterName(Model model) {
        for (BaseLayer layer : trainedLayers(model)) {
            if (layer.getIUpdater() != null) {
                return layer.getIUpdater().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
            }
        }
        return "none";
    }

    /** "float64" or "float32": the precision of the network's parameters. */
    static String precision(Model model) {
        DataType type = model.params().dataType();
        return switch (type) {
            case DOUBLE -> "float64";
            case FLOAT -> "float32";
            case HALF -> "float16";
            case BFLOAT16 -> "bfloat16";
            default -> type.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static boolean empty(List<?> list) {
        return list == null || list.isEmpty();
    }
}
