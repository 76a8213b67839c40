package io.sgdscope.trainer.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The networks of the paper's experiments by name: Table 2 (Gauss-k, Sec. A.1) and Table 3 (MNIST and
 * CIFAR-10, Sec. A.2). Each is a fully connected ReLU net; {@link #parameterCount()} equals the
 * tables' p.
 */
public enum ModelPreset {
    /** Gauss-2: [50, 10, 30, 2], p = 902 (Table 2). */
    GAUSS2("gauss2", List.of(50, 10, 30, 2), 902),
    /** Gauss-10: [50, 10, 30, 10], p = 1150 (Table 2). */
    GAUSS10("gauss10", List.of(50, 10, 30, 10), 1_150),
    /** MNIST, 3 hidden layers of 128: p = 134,794 (Table 3). */
    MNIST_MLP3("mnist-mlp3", hidden(784, 128, 3, 10), 134_794),
    /** MNIST, 4 hidden layers of 128: p = 151,306. */
    MNIST_MLP4("mnist-mlp4", hidden(784, 128, 4, 10), 151_306),
    /** MNIST, 5 hidden layers of 128: p = 167,818. */
    MNIST_MLP5("mnist-mlp5", hidden(784, 128, 5, 10), 167_818),
    /** MNIST, 6 hidden layers of 128: p = 184,330. */
    MNIST_MLP6("mnist-mlp6", hidden(784, 128, 6, 10), 184_330),
    /** CIFAR-10, 3 hidden layers of 256: p = 920,842 (Table 3). */
    CIFAR_MLP3("cifar-mlp3", hidden(3072, 256, 3, 10), 920_842),
    /** CIFAR-10, 6 hidden layers of 256: p = 1,118,218 (Table 3). */
    CIFAR_MLP6("cifar-mlp6", hidden(3072, 256, 6, 10), 1_118_218);

    private final String id;
    private final MlpArchitecture architecture;
    private final int tableParameterCount;

    ModelPreset(String id, List<Integer> layers, int tableParameterCount) {
        this.id = id;
        this.architecture = new MlpArchitecture(layers);
        this.tableParameterCount = tableParameterCount;
    }

    public String id() {
        return id;
    }

    public MlpArchitecture architecture() {
        return architecture;
    }

    /** p as the paper's table gives it (the architecture's own count must agree). */
    public int tableParameterCount() {
        return tableParameterCount;
    }

    public int parameterCount() {
        return architecture.parameterCount();
    }

    /** The preset named {@code id} (e.g. 'mnist-mlp4'). */
    public static ModelPreset fromId(String id) {
        for (ModelPreset preset : values()) {
            if (preset.id.equals(id)) {
                return preset;
            }
        }
        throw new IllegalArgumentException("unknown model '" + id + "' (known: "
                + Arrays.stream(values()).map(ModelPreset::id).collect(Collectors.joining(", ")) + ")");
    }

    /** The preset with exactly these widths, if there is one (for provenance: which of the paper's nets a run used). */
    public static Optional<ModelPreset> matching(List<Integer> layers) {
        for (ModelPreset preset : values()) {
            if (preset.architecture.layers().equals(layers)) {
                return Optional.of(preset);
            }
        }
        return Optional.empty();
    }

    /**
     * Whether this net fits a dataset of input dimension d and k classes.
     *
     * @throws IllegalArgumentException naming the preset, what it needs and what the dataset has, if not
     */
    public void requireFits(String dataset, int inputDimension, int classes) {
        if (architecture.inputDimension() != inputDimension || architecture.classes() != classes) {
            throw new IllegalArgumentException("model " + id + " " + architecture.layers() + " needs d = "
                    + architecture.inputDimension() + " and k = " + architecture.classes() + ", the dataset " + dataset
                    + " has d = " + inputDimension + " and k = " + classes);
        }
    }

    private static List<Integer> hidden(int input, int width, int hiddenLayers, int classes) {
        List<Integer> layers = new ArrayList<>();
        layers.add(input);
        for (int i = 0; i < hiddenLayers; i++) {
            layers.add(width);
        }
        layers.add(classes);
        return layers;
    }

    @Override
    public String toString() {
        return id;
    }
}
