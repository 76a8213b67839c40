package io.sgdscope.trainer.model;

import java.util.List;

/**
 * The shape of a fully connected ReLU network phi(theta; x) (Eq. 10) with widths [d, h_1, ..., k]
 * and the layout of its flat parameter vector theta in R^p: for each layer l in order, W_l as an
 * [in_l, out_l] row-major block, then b_l of length out_l. Forward: h_{l+1} = relu(h_l W_l + b_l),
 * no ReLU after the last layer.
 *
 * @param layers widths, input dimension first, number of classes last (Gauss-10: [50, 10, 30, 10])
 */
public record MlpArchitecture(List<Integer> layers) {

    public MlpArchitecture {
        layers = List.copyOf(layers);
        if (layers.size() < 2) {
            throw new IllegalArgumentException("layers need at least an input and an output width, got " + layers);
        }
        for (int width : layers) {
            if (width < 1) {
                throw new IllegalArgumentException("layer widths must be >= 1, got " + layers);
            }
        }
        long parameters = 0;
        for (int l = 0; l + 1 < layers.size(); l++) {
            parameters += ((long) layers.get(l) + 1) * layers.get(l + 1);
        }
        // theta is one flat array indexed by int offsets (weightOffset, biasOffset).
        if (parameters > MAX_PARAMETERS) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "layers %s have p = %,d parameters, more than the %,d one network can hold", layers, parameters,
                    MAX_PARAMETERS));
        }
    }

    /** The most parameters a network may have: the largest Java array. */
    public static final int MAX_PARAMETERS = Integer.MAX_VALUE - 8;

    public static MlpArchitecture of(Integer... widths) {
        return new MlpArchitecture(List.of(widths));
    }

    /** Number of weight layers L (3 for [50, 10, 30, 10]). */
    public int depth() {
        return layers.size() - 1;
    }

    /** Input width of layer l (its fan-in). */
    public int fanIn(int l) {
        return layers.get(l);
    }

    /** Output width of layer l. */
    public int fanOut(int l) {
        return layers.get(l + 1);
    }

    public int inputDimension() {
        return layers.get(0);
    }

    public int classes() {
        return layers.get(layers.size() - 1);
    }

    /** Offset of W_l in theta. */
    public int weightOffset(int l) {
        int offset = 0;
        for (int i = 0; i < l; i++) {
            offset += (fanIn(i) + 1) * fanOut(i);
        }
        return offset;
    }

    /** Offset of b_l in theta (right after W_l). */
    public int biasOffset(int l) {
        return weightOffset(l) + fanIn(l) * fanOut(l);
    }

    /** Number of parameters p = sum over layers of (in + 1) * out (Table 2: 1150 for Gauss-10). */
    public int parameterCount() {
        return weightOffset(depth());
    }
}
