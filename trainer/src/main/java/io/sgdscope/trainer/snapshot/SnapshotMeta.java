package io.sgdscope.trainer.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * meta.json of a snapshot: {@code {"layers": [d, h1, ..., k], "activation": "relu",
 * "loss": "softmax_cross_entropy", "iteration": t, "topK": K, "priorSigma": sigma}}.
 */
public record SnapshotMeta(List<Integer> layers, int iteration, int topK, double priorSigma) {

    public static final String ACTIVATION = "relu";
    public static final String LOSS = "softmax_cross_entropy";

    static SnapshotMeta read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (!ACTIVATION.equals(root.path("activation").asText()) || !LOSS.equals(root.path("loss").asText())) {
            throw new IOException(file + ": only relu networks with softmax_cross_entropy are supported");
        }
        List<Integer> layers = new ArrayList<>();
        root.path("layers").forEach(node -> layers.add(node.asInt()));
        return new SnapshotMeta(layers, root.path("iteration").asInt(), root.path("topK").asInt(),
                root.path("priorSigma").asDouble());
    }
}
