package io.sgdscope.dl4j.curvature;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A float64 copy of a DL4J network (its "twin") that evaluates f(theta) and grad f(theta) by DL4J's own
 * forward and backward passes at any theta, without touching the network being trained: the probes set
 * theta_t (and theta_t +- h v) here, never in the trained network, so its input, labels, score and
 * gradient buffers stay as the training loop left them.
 *
 * <p>f is the mean loss over the batch given (Eq. 3). DL4J's {@code computeGradientAndScore} gives the
 * gradient of the <em>sum</em> of the example losses (its updater divides by the minibatch size when the
 * {@code miniBatch} setting is on, the default) and a score that is the mean with {@code miniBatch} on,
 * the sum with it off: the twin divides accordingly. DL4J applies l1, l2 and weight decay in its
 * updater, not in the gradient it computes, so the gradient is that of the data loss alone; the score
 * includes their penalty terms.
 *
 * <p>Precision: float64 throughout (the twin is converted to DOUBLE). Not thread-safe.
 */
public interface GradientModel {

    /** p, DL4J's number of parameters. */
    int parameterCount();

    /** Copies the trained network's current parameters into the twin (widened to float64). */
    void synchronize();

    /** The twin's parameters, [p] float64 in DL4J's order (a copy). */
    INDArray parameters();

    /** Sets the twin's parameters from [p] values in DL4J's order (any data type). */
    void setParameters(INDArray theta);

    /**
     * f and grad f on a batch at the twin's parameters.
     *
     * @param features [m, d] inputs
     * @param labels   [m, k] labels as DL4J's loss takes them (one-hot for softmax cross-entropy)
     * @param gradient receives the mean gradient, [p] float64, DL4J's order
     * @return the mean loss over the m examples, as DL4J scores it
     */
    double lossAndGradient(INDArray features, INDArray labels, INDArray gradient);

    /**
     * Which hidden units are active (activation > 0) for each example at the twin's parameters: one forward
     * pass, the hidden layers' activations as one flat boolean array. Two calls give equal arrays exactly when
     * no ReLU changed sides between them.
     */
    INDArray activePattern(INDArray features);

    /**
     * The float64 twin of a DL4J {@link MultiLayerNetwork} or a one-input, one-output {@link ComputationGraph};
     * other models are refused with a one-line message.
     */
    static GradientModel of(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return new MultiLayerGradients(net);
        }
        if (model instanceof ComputationGraph graph) {
            return new GraphGradients(graph);
        }
        throw new IllegalArgumentException("curvature probes support DL4J MultiLayerNetwork and ComputationGraph models, got "
                + (model == null ? "null" : model.getClass().getSimpleName()));
    }
}
