package io.sgdscope.dl4j;

import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * The data the listener evaluates f(theta) on every iteration (IterationMetrics.loss, Eq. 3): the whole training
 * set, as the paper and the built-in trainer do, or a fixed probe subset of it (its {@link #description()} goes into
 * the run's settings as {@code probe.set}). Evaluated with DL4J's own score in inference mode (no dropout), in the
 * network's precision: the mean loss over the set. Costs one forward pass over the set per iteration;
 * {@link #currentMinibatch()} costs nothing and publishes the minibatch's loss as {@code loss}.
 */
public final class ProbeSet {

    private final DataSet dataSet;
    private final MultiDataSet multiDataSet;
    private final String description;

    private ProbeSet(DataSet dataSet, MultiDataSet multiDataSet, String description) {
        this.dataSet = dataSet;
        this.multiDataSet = multiDataSet;
        this.description = Objects.requireNonNull(description, "description");
    }

    /**
     * A probe set of examples with one input and one output (MultiLayerNetwork, or a ComputationGraph with one of each).
     *
     * @param description what the set is, e.g. "training set (n = 100)" or "first 1,000 training images"
     */
    public static ProbeSet of(DataSet examples, String description) {
        return new ProbeSet(Objects.requireNonNull(examples, "examples"), null, description);
    }

    /** A probe set for a ComputationGraph with several inputs or outputs. */
    public static ProbeSet of(MultiDataSet examples, String description) {
        return new ProbeSet(null, Objects.requireNonNull(examples, "examples"), description);
    }

    /**
     * No probe set: {@code loss} is the loss of the minibatch that gave g_t (equal to {@code minibatchLoss}), not
     * f(theta_t) on the training set, and RunFinished has no final loss. For runs where a forward pass over a probe set
     * every iteration costs too much; the run's settings say so ({@code probe.set}).
     */
    public static ProbeSet currentMinibatch() {
        return new ProbeSet(null, null, "none: loss is the minibatch loss");
    }

    /** Whether this is {@link #currentMinibatch()}: no evaluation of its own. */
    boolean isMinibatch() {
        return dataSet == null && multiDataSet == null;
    }

    /** The examples when this set is one DataSet, else null. */
    DataSet dataSet() {
        return dataSet;
    }

    /** What the set is (recorded in RunStarted.settings as {@code probe.set}). */
    public String description() {
        return description;
    }

    /** The mean loss of {@code model} at its current parameters over this set (NaN for {@link #currentMinibatch()}). */
    double loss(Model model) {
        if (isMinibatch()) {
            return Double.NaN;
        }
        if (model instanceof MultiLayerNetwork network) {
            if (dataSet == null) {
                throw new IllegalArgumentException("a MultiLayerNetwork is probed with a DataSet, not a MultiDataSet");
            }
            return network.score((org.nd4j.linalg.dataset.DataSet) dataSet, false);
        }
        if (model instanceof ComputationGraph graph) {
            return dataSet != null ? graph.score(dataSet, false) : graph.score(multiDataSet, false);
        }
        throw new IllegalArgumentException("the listener watches a MultiLayerNetwork or a ComputationGraph, not a "
                + model.getClass().getSimpleName());
    }
}
