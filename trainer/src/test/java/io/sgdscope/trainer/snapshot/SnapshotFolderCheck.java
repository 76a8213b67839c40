package io.sgdscope.trainer.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * An independent reading of a snapshot folder (docs/snapshots.md) for the tests of every writer of one: the
 * trainer's ({@code SnapshotFolderTest}) and the DL4J listener's ({@code Dl4jSnapshotsTest}, through this module's
 * test jar). numpy loads the arrays and recomputes f(theta) in float64.
 */
public final class SnapshotFolderCheck {

    private SnapshotFolderCheck() {}

    /**
     * Loads a folder with numpy and recomputes f(theta) as docs/snapshots.md defines it (float64: ReLU hidden layers,
     * softmax cross-entropy mean, Eq. 3).
     *
     * @return JSON with {@code loss} (numpy's f), {@code publishedLoss} (published.json's), the arrays' {@code shapes}
     *         and dtype {@code kinds}, and {@code flatEqualsTheta0} (W_l, b_l flattened in order equal theta0.npy)
     */
    public static JsonNode readWithNumpy(Path folder) throws Exception {
        String script = String.join("\n",
                "import json, sys, os",
                "import numpy as np",
                "d = sys.argv[1]",
                "meta = json.load(open(os.path.join(d, 'meta.json')))",
                "L = len(meta['layers']) - 1",
                "names = ['X', 'y', 'theta0'] + ['W%d' % l for l in range(L)] + ['b%d' % l for l in range(L)]",
                "a = {n: np.load(os.path.join(d, n + '.npy')) for n in names}",
                "h = a['X'].astype(np.float64)",
                "for l in range(L):",
                "    h = h @ a['W%d' % l] + a['b%d' % l]",
                "    if l < L - 1:",
                "        h = np.maximum(h, 0)",
                "m = h.max(axis=1, keepdims=True)",
                "lse = m[:, 0] + np.log(np.exp(h - m).sum(axis=1))",
                "loss = float(np.mean(lse - h[np.arange(len(a['y'])), a['y']]))",
                "flat = np.concatenate([np.concatenate([a['W%d' % l].ravel(), a['b%d' % l]]) for l in range(L)])",
                "print(json.dumps({'loss': loss,",
                "  'publishedLoss': json.load(open(os.path.join(d, 'published.json')))['loss'],",
                "  'shapes': {n: list(a[n].shape) for n in names}, 'kinds': {n: a[n].dtype.kind for n in names},",
                "  'flatEqualsTheta0': bool(flat.shape == a['theta0'].shape and np.array_equal(flat, a['theta0']))}))");
        Process process = new ProcessBuilder("/usr/bin/python3", "-c", script, folder.toString()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "python3 timed out");
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), "python3 with numpy failed: " + err);
        return new ObjectMapper().readTree(out);
    }

    /** The numbers of a JSON array. */
    public static List<Double> doubles(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asDouble).toList();
    }

    /** The names of the files in a folder, sorted. */
    public static Set<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
