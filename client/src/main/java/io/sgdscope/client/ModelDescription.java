package io.sgdscope.client;

import java.util.List;
import java.util.Objects;

/**
 * The network a run trains, described generically for its RunStarted ({@code ModelSpec}): the layer widths of a
 * fully connected net, or a free-form description of any other (kept in the run's settings under
 * {@code model.description}, with an empty layer list), and its parameter count p.
 *
 * @param layers         layer widths [d, h1, ..., k] of a fully connected net, or empty
 * @param description    free-form description of the net (architecture, framework), or null
 * @param parameterCount p, the number of trained parameters (the length of the arrays handed to the publisher)
 * @param activation     hidden activation, e.g. "relu"
 * @param loss           point-wise loss, e.g. "softmax_cross_entropy"
 * @param initialization how theta_0 was drawn, e.g. "he-normal"
 */
public record ModelDescription(List<Integer> layers, String description, long parameterCount, String activation,
                               String loss, String initialization) {

    /** @throws IllegalArgumentException for p < 1, a width < 1, or neither layers nor a description */
    public ModelDescription {
        layers = List.copyOf(layers);
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(initialization, "initialization");
        if (parameterCount < 1) {
            throw new IllegalArgumentException("the parameter count must be >= 1, got " + parameterCount);
        }
        if (layers.stream().anyMatch(width -> width < 1)) {
            throw new IllegalArgumentException("layer widths must be >= 1, got " + layers);
        }
        if (layers.isEmpty() && (description == null || description.isBlank())) {
            throw new IllegalArgumentException("describe the model: its layer widths or a description");
        }
    }

    /**
     * A fully connected net with biases of the given widths [d, h1, ..., k]; p = sum over layers of (in + 1) out.
     */
    public static ModelDescription fullyConnected(String activation, String loss, String initialization, int... widths) {
        if (widths.length < 2) {
            throw new IllegalArgumentException("a fully connected net has at least 2 layer widths (input and output)");
        }
        long p = 0;
        for (int l = 1; l < widths.length; l++) {
            p += ((long) widths[l - 1] + 1) * widths[l];
        }
        return new ModelDescription(java.util.Arrays.stream(widths).boxed().toList(), null, p, activation, loss,
                initialization);
    }

    /** Any other net: a free-form description and its parameter count. */
    public static ModelDescription described(String description, long parameterCount, String activation, String loss,
                                             String initialization) {
        return new ModelDescription(List.of(), description, parameterCount, activation, loss, initialization);
    }
}
