package io.sgdscope.trainer.snapshot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Writes a snapshot of a run at iteration t for offline checking, into {@code DIR/<runId>/<t>/}:
 * {@code meta.json}; {@code X.npy} ([n, d], the model's float type) and {@code y.npy} ([n] int64);
 * {@code W{l}.npy} ([in, out]) and {@code b{l}.npy} ([out]) for l = 0..L-1; {@code theta0.npy} (the
 * initial parameters, flat, per layer W_l row-major then b_l); {@code published.json}, the values
 * of the IterationMetrics and SpectrumSnapshot records of iteration t exactly as they were
 * published (taken from those records, not computed again).
 *
 * <p>The .npy files come from ND4J's {@code Nd4j.toNpyByteArray} (format 1.0, little-endian,
 * C order). Arrays are first copied to C order: ND4J 1.0.0-M2.1 writes a column-major ('f')
 * array's buffer as is under a {@code fortran_order: False} header, which numpy then reads transposed.
 */
public final class SnapshotWriter {

    public static final String META = "meta.json";
    public static final String PUBLISHED = "published.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SnapshotWriter() {}

    /** The folder of run {@code runId} at iteration {@code t} under {@code root}. */
    public static Path folder(Path root, String runId, int t) {
        return root.resolve(runId).resolve(Integer.toString(t));
    }

    /**
     * Writes the snapshot folder (created with its parents; files are replaced).
     *
     * @param features  [n, d] training inputs
     * @param labels    n labels
     * @param theta     theta_t, [p]
     * @param theta0    theta_0, [p]
     * @param metrics   the IterationMetrics published for t
     * @param spectrum  the SpectrumSnapshot published for t, or null if none was
     * @return the folder
     */
    public static Path write(Path root, String runId, int t, MlpArchitecture architecture, INDArray features,
                             int[] labels, INDArray theta, INDArray theta0, int topK, double priorSigma,
                             IterationMetrics metrics, SpectrumSnapshot spectrum) throws IOException {
        Path folder = folder(root, runId, t);
        Files.createDirectories(folder);
        ObjectNode meta = JSON.createObjectNode();
        ArrayNode layers = meta.putArray("layers");
        architecture.layers().forEach(layers::add);
        meta.put("activation", SnapshotMeta.ACTIVATION);
        meta.put("loss", SnapshotMeta.LOSS);
        meta.put("iteration", t);
        meta.put("topK", topK);
        meta.put("priorSigma", priorSigma);
        JSON.writeValue(folder.resolve(META).toFile(), meta);

        npy(folder.resolve("X.npy"), features);
        long[] y = new long[labels.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels[i];
        }
        npy(folder.resolve("y.npy"), Nd4j.createFromArray(y));
        for (int l = 0; l < architecture.depth(); l++) {
            int w = architecture.weightOffset(l);
            int b = architecture.biasOffset(l);
            npy(folder.resolve("W" + l + ".npy"), theta.get(NDArrayIndex.interval(w, b))
                    .reshape('c', architecture.fanIn(l), architecture.fanOut(l)));
            npy(folder.resolve("b" + l + ".npy"), theta.get(NDArrayIndex.interval(b, b + architecture.fanOut(l))));
        }
        npy(folder.resolve("theta0.npy"), theta0.reshape(-1));
        JSON.writeValue(folder.resolve(PUBLISHED).toFile(), published(t, metrics, spectrum));
        return folder;
    }

    /** published.json: the published values of iteration t, under the keys docs/snapshots.md lists. */
    static ObjectNode published(int t, IterationMetrics metrics, SpectrumSnapshot spectrum) {
        ObjectNode node = JSON.createObjectNode();
        number(node, "loss", metrics.getLoss());
        number(node, "gradNormSq", metrics.getGradNormSq());
        number(node, "traceM", metrics.getTraceM());
        number(node, "traceSigma", metrics.getTraceSigma());
        number(node, "sigmaFrobenius", metrics.getSigmaFrobenius());
        number(node, "sigmaSpectral", metrics.getSigmaSpectral());
        number(node, "sigmaHalfMuNorm", metrics.getSigmaHalfMuNorm());
        if (spectrum != null) {
            numbers(node, "hessianEigenvalues", spectrum.getHessianEigenvalues());
            numbers(node, "secondMomentEigenvalues", spectrum.getSecondMomentEigenvalues());
            numbers(node, "residualEigenvalues", spectrum.getPredictionHessianEigenvalues());
            numbers(node, "principalAngleCosines", spectrum.getPrincipalAngleCosines());
            if (spectrum.getHessianDiagonal() != null) {
                numbers(node, "hessianDiagonal", spectrum.getHessianDiagonal());
            }
            if (spectrum.getEffectiveCurvature() != null) {
                number(node, "effectiveCurvature", spectrum.getEffectiveCurvature());
            }
            if (spectrum.getWeightedFrobenius() != null) {
                number(node, "weightedFrobenius", spectrum.getWeightedFrobenius());
            }
        }
        node.put("iteration", t);
        return node;
    }

    /** Writes [n] or [rows, cols] values as .npy in C order. */
    static void npy(Path file, INDArray array) throws IOException {
        Files.write(file, Nd4j.toNpyByteArray(array.dup('c')));
    }

    private static void number(ObjectNode node, String key, Double value) {
        if (value == null || !Double.isFinite(value)) {
            node.putNull(key);                       // JSON has no NaN / Infinity
        } else {
            node.put(key, value);
        }
    }

    private static void numbers(ObjectNode node, String key, List<Double> values) {
        ArrayNode array = node.putArray(key);
        for (Double value : values) {
            if (value == null || !Double.isFinite(value)) {
                array.addNull();
            } else {
                array.add(value);
            }
        }
    }

    /** Unchecked wrapper for callers inside the training loop. */
    public static UncheckedIOException unchecked(String what, IOException e) {
        return new UncheckedIOException("cannot write the snapshot " + what + ": " + e.getMessage(), e);
    }
}
