package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The correspondence between the flat parameter vector of a DL4J {@link MultiLayerNetwork} (or a chain
 * {@link ComputationGraph}) of dense layers and the trainer's flat theta ({@link MlpArchitecture}). Both hold the layers in order, each
 * layer's weights W_l [in, out] and then its biases b_l [out], so every layer occupies the same range
 * in both; they differ inside the weight block: DL4J keeps W_l column-major ('f': W[r][c] at
 * r + c * in), the trainer row-major (W[r][c] at r * out + c). Biases are at the same positions.
 *
 * <p>Immutable. The permutations copy values exactly (any data type in, the same data type out).
 */
public final class ParameterLayout {

    private final MlpArchitecture architecture;

    private ParameterLayout(MlpArchitecture architecture) {
        this.architecture = architecture;
    }

    /** The layout of the trainer's network of these widths. */
    public static ParameterLayout of(MlpArchitecture architecture) {
        return new ParameterLayout(architecture);
    }

    /**
     * The layout of a DL4J network made only of {@link DenseLayer}s and a final {@link OutputLayer}, each
     * with biases; anything else is refused with a one-line {@link IllegalArgumentException}.
     */
    public static ParameterLayout of(MultiLayerNetwork net) {
        return of(net.getLayers(), net.numParams());
    }

    /**
     * The layout of a DL4J {@link ComputationGraph} that is a chain: one input, one output, every vertex a
     * layer (dense layers with biases, then an output layer with biases). Its flat parameters hold the layers
     * in topological order, which for a chain is the order of the layers.
     */
    public static ParameterLayout of(ComputationGraph graph) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        long vertices = conf.getVertices().values().stream().filter(v -> !(v instanceof LayerVertex)).count();
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1 || vertices > 0) {
            throw new IllegalArgumentException("only a ComputationGraph that is a chain of layers (one input, one output, "
                    + "no other vertices) is supported");
        }
        return of(graph.getLayers(), graph.numParams());
    }

    private static ParameterLayout of(Layer[] layers, long parameters) {
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("the DL4J network has no layers (call init() first)");
        }
        List<Integer> widths = new ArrayList<>();
        for (int l = 0; l < layers.length; l++) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layers[l].conf().getLayer();
            boolean last = l == layers.length - 1;
            boolean dense = conf instanceof DenseLayer d && d.hasBias() && !last;
            boolean output = conf instanceof OutputLayer o && o.hasBias() && last;
            if (!dense && !output) {
                throw new IllegalArgumentException("layer " + l + " is a " + conf.getClass().getSimpleName()
                        + ": only dense layers with biases followed by one output layer with biases are supported");
            }
            FeedForwardLayer ff = (FeedForwardLayer) conf;
            if (l == 0) {
                widths.add(Math.toIntExact(ff.getNIn()));
            } else if (ff.getNIn() != widths.get(widths.size() - 1)) {
                throw new IllegalArgumentException("layer " + l + " takes " + ff.getNIn() + " inputs, layer "
                        + (l - 1) + " gives " + widths.get(widths.size() - 1));
            }
            widths.add(Math.toIntExact(ff.getNOut()));
        }
        MlpArchitecture architecture = new MlpArchitecture(widths);
        if (parameters != architecture.parameterCount()) {
            throw new IllegalArgumentException("the DL4J network has " + parameters + " parameters, layers "
                    + widths + " need " + architecture.parameterCount());
        }
        return new ParameterLayout(architecture);
    }

    /** The widths [d, h_1, ..., k]; layer l occupies [weightOffset(l), weightOffset(l + 1)) in both orders. */
    public MlpArchitecture architecture() {
        return architecture;
    }

    /** p. */
    public int parameterCount() {
        return architecture.parameterCount();
    }

    /** The DL4J index of the value at trainer index {@code j}. */
    public int dl4jIndex(int j) {
        if (j < 0 || j >= parameterCount()) {
            throw new IndexOutOfBoundsException("parameter index " + j + " outside [0, " + parameterCount() + ")");
        }
        int l = 0;
        while (architecture.weightOffset(l + 1) <= j) {
            l++;
        }
        int w = architecture.weightOffset(l);
        int b = architecture.biasOffset(l);
        if (j >= b) {
            return j;                                        // biases: same position
        }
        int in = architecture.fanIn(l);
        int out = architecture.fanOut(l);
        int r = (j - w) / out;
        int c = (j - w) % out;
        return w + r + c * in;
    }

    /** theta in the trainer's order (W_l row-major) from DL4J's flat parameters ([p] or [1, p]); a new [p] array. */
    public INDArray toTrainer(INDArray dl4j) {
        return permute(dl4j, true);
    }

    /** DL4J's flat order (W_l column-major) from the trainer's theta ([p] or [1, p]); a new [p] array. */
    public INDArray toDl4j(INDArray trainer) {
        return permute(trainer, false);
    }

    private INDArray permute(INDArray values, boolean toTrainer) {
        int p = parameterCount();
        if (values.length() != p) {
            throw new IllegalArgumentException("need p = " + p + " values, got " + values.length());
        }
        double[] from = values.reshape(p).toDoubleVector();
        double[] to = new double[p];
        for (int l = 0; l < architecture.depth(); l++) {
            int w = architecture.weightOffset(l);
            int b = architecture.biasOffset(l);
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            for (int r = 0; r < in; r++) {
                for (int c = 0; c < out; c++) {
                    int trainer = w + r * out + c;
                    int dl4j = w + r + c * in;
                    if (toTrainer) {
                        to[trainer] = from[dl4j];
                    } else {
                        to[dl4j] = from[trainer];
                    }
                }
            }
            System.arraycopy(from, b, to, b, out);
        }
        return Nd4j.createFromArray(to).castTo(values.dataType());
    }
}
