package io.sgdscope.dl4j;

import io.sgdscope.client.ModelDescription;
import io.sgdscope.client.RunDescription;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.factory.Nd4j;

/** Run descriptions (the RunStarted's provenance) of DL4J networks, read from their configuration. */
public final class Dl4jRuns {

    private Dl4jRuns() {}

    /**
     * A builder for run {@code runIndex} of {@code experimentId} preset from the network: its model (layer widths when
     * every layer is a dense or output layer, else a description of its layers; p = numParams), precision, updater
     * and its learning rate at iteration 0, the ND4J backend, and the probe set ({@code probe.set} in the settings).
     * Add the data, seed, planned iterations and batch size.
     */
    public static RunDescription.Builder builder(String experimentId, int runIndex, Model network, ProbeSet probe) {
        return RunDescription.builder(experimentId, runIndex)
                .model(model(network))
                .optimizer(Dl4jNetwork.updaterName(network), Dl4jNetwork.learningRate(network, 0, 0), 1)
                .precision(Dl4jNetwork.precision(network))
                .backend(Nd4j.getBackend().getClass().getSimpleName().replace("Backend", ""))
                .version("deeplearning4j", "1.0.0-M2.1")
                .setting("probe.set", probe.description());
    }

    /** The network as a ModelDescription. */
    public static ModelDescription model(Model network) {
        Layer[] layers = Dl4jNetwork.layers(network);
        List<Integer> widths = new ArrayList<>();
        List<String> described = new ArrayList<>();
        boolean dense = true;
        String activation = null;
        String loss = "unknown";
        for (Layer layer : layers) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            String act = conf instanceof BaseLayer base && base.getActivationFn() != null
                    ? base.getActivationFn().toString().toLowerCase(java.util.Locale.ROOT) : "?";
            if (conf instanceof FeedForwardLayer ff) {
                described.add(conf.getClass().getSimpleName() + "(" + ff.getNIn() + "->" + ff.getNOut() + ", " + act + ")");
                if (widths.isEmpty()) {
                    widths.add((int) ff.getNIn());
                }
                widths.add((int) ff.getNOut());
            } else {
                described.add(conf.getClass().getSimpleName());
            }
            if (conf instanceof OutputLayer output) {
                loss = output.getLossFn().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
            } else if (conf instanceof DenseLayer) {
                activation = activation == null ? act : activation;
            } else {
                dense = false;
            }
        }
        String hidden = activation == null ? "none" : activation;
        String init = "dl4j";
        long p = network.numParams();
        return dense
                ? new ModelDescription(widths, String.join(", ", described), p, hidden, loss, init)
                : ModelDescription.described(String.join(", ", described), p, hidden, loss, init);
    }
}
