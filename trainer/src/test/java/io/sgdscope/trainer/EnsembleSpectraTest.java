package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.snapshot.SnapshotData;
import io.sgdscope.trainer.snapshot.SnapshotWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The ensemble engine's spectra, snapshot folders and Corollary 4 terms are the per-run engine's for the same seeds
 * (float64, Gauss-10, 3 runs in blocks of 2 and 1): every field of every SpectrumSnapshot (found by walking the
 * schema) — eigenvalues within their Lanczos residuals, every other number to a relative 1e-9 (eigenvectors enter
 * through the principal angles, layer loadings and Davis-Kahan bounds, which do not depend on their signs) — L and
 * the moments of every IterationMetrics around the spectra (L at a spectrum iteration from the converged Lanczos,
 * the next ones warm-started from it), RunFinished's Corollary 4 terms, and every file of every snapshot folder.
 * Spectra at t = 0, 25, 50 (25: no moments there) and snapshot folders at t = 15 and 40 (moments and a spectrum
 * there too), so that the warm starts and the seeds of the Lanczos runs are compared across every kind of iteration.
 */
class EnsembleSpectraTest {

    private static final int RUNS = 3;
    private static final int ITERATIONS = 60;
    private static final double RELATIVE = 1e-9;

    /** Wall-clock fields: each engine has its own; only their presence is compared. */
    private static final Set<String> WALL_CLOCK = Set.of("SpectrumSnapshot.timestampMillis",
            "SpectrumSnapshot.probeSeconds", "IterationMetrics.timestampMillis", "IterationMetrics.probeSeconds");

    private static TrainerSettings settings(Path folders) {
        return TrainerSettings.builder().experimentId("spectra").runs(RUNS).iterations(ITERATIONS).workers(2)
                .curvature(CurvatureSettings.off().withMomentsEvery(10).withSpectrumEvery(25).withTopK(5)
                        .withSnapshots(List.of(15, 40), folders))
                .engine(Engine.PER_RUN).build();
    }

    private static InMemoryTelemetrySink train(TrainerSettings settings) {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Engines.experiment(settings, sink, ExperimentListener.none()).run();
        return sink;
    }

    @Test
    void theEnsembleEnginePublishesThePerRunEnginesSpectraSnapshotsAndCorollary4Terms(@TempDir Path root)
            throws IOException {
        TrainerSettings perRun = settings(root.resolve("per-run"));
        TrainerSettings ensemble = settings(root.resolve("ensemble")).toBuilder().engine(Engine.ENSEMBLE)
                .ensembleBlock(2).build();
        InMemoryTelemetrySink expected = train(perRun);
        InMemoryTelemetrySink actual = train(ensemble);

        Set<String> published = new TreeSet<>();
        for (int r = 0; r < RUNS; r++) {
            String runId = Experiment.runId("spectra", r);
            List<SpectrumSnapshot> a = expected.spectra(runId);
            List<SpectrumSnapshot> b = actual.spectra(runId);
            assertEquals(List.of(0, 15, 25, 40, 50), a.stream().map(SpectrumSnapshot::getIteration).toList(), runId);
            assertEquals(a.size(), b.size(), runId + ": spectra published");
            for (int i = 0; i < a.size(); i++) {
                // The key of the run's frames on the ensemble engine (blocks of 2: runs 0 and 1, then run 2).
                String frameKey = Experiment.runId("spectra", r / 2 * 2);
                assertSameFields(a.get(i), b.get(i), a.get(i), runId + " t = " + a.get(i).getIteration(), published,
                        frameKey);
            }
            List<IterationMetrics> x = expected.iterations(runId);
            List<IterationMetrics> y = actual.iterations(runId);
            assertEquals(ITERATIONS, y.size(), runId);
            for (int t = 0; t < ITERATIONS; t++) {
                assertSameFields(x.get(t), y.get(t), null, runId + " t = " + t, published, null);
            }
            for (int t : List.of(0, 15, 40, 50)) {                         // L with the moments: the snapshot's
                assertEquals(b.stream().filter(s -> s.getIteration() == t).findFirst().orElseThrow()
                                .getHessianEigenvalues().stream().mapToDouble(Math::abs).max().orElseThrow(),
                        y.get(t).getHessianSpectralNorm(), 1e-12 * y.get(t).getHessianSpectralNorm(),
                        runId + ": L at t = " + t + " is the spectrum's");
            }
            RunFinished f = expected.finished(runId).orElseThrow();
            RunFinished g = actual.finished(runId).orElseThrow();
            assertTrue(f.getGeneralizationBound() != null && f.getEffectiveCurvature() != null, runId + ": Corollary 4 terms");
            for (String field : List.of("hessianDiagonalMethod", "priorSigma", "effectiveCurvature",
                    "weightedFrobenius", "generalizationBound", "finalLoss", "status", "iterations")) {
                assertSameValue(f.get(field), g.get(field), runId + " RunFinished." + field);
            }
            for (int t : List.of(15, 40)) {
                assertSameFolder(SnapshotWriter.folder(perRun.curvature().snapshotDir(), runId, t),
                        SnapshotWriter.folder(ensemble.curvature().snapshotDir(), runId, t));
            }
        }
        // Every field of SpectrumSnapshot that the per-run engine fills had a value compared (the full spectra are
        // off here: the dense path is the per-run engine's own code on the same theta).
        for (Schema.Field field : SpectrumSnapshot.getClassSchema().getFields()) {
            String name = "SpectrumSnapshot." + field.name();
            assertTrue(published.contains(name) || name.endsWith("FullSpectrum"), name + " was never compared");
        }
    }

    /**
     * Walks the schema of x: eigenvalues within the larger of their Lanczos residuals ({@code spectrum}'s, when
     * given), every other double to {@value #RELATIVE} relative, everything else exactly; a SpectrumSnapshot's
     * frameKey is null on the per-run engine and {@code frameKey} on the ensemble engine.
     */
    static void assertSameFields(GenericRecord x, GenericRecord y, SpectrumSnapshot spectrum, String at,
                                 Set<String> published, String frameKey) {
        Schema schema = x.getSchema();
        for (Schema.Field field : schema.getFields()) {
            String name = schema.getName() + "." + field.name();
            Object a = x.get(field.pos());
            Object b = y.get(field.pos());
            if (a != null) {
                published.add(name);
            }
            String what = name + " of " + at;
            if (name.equals("SpectrumSnapshot.frameKey")) {
                assertEquals(null, a, what);
                assertEquals(frameKey, String.valueOf(b), what);
                published.add(name);
            } else if (WALL_CLOCK.contains(name)) {
                assertEquals(a == null, b == null, what + " is published by one engine only");
            } else if (name.endsWith("Eigenvalues") && a != null) {
                String residuals = field.name().replace("Eigenvalues", "Residuals");
                List<?> ra = (List<?>) x.get(residuals);
                List<?> rb = (List<?>) y.get(residuals);
                List<?> va = (List<?>) a;
                List<?> vb = (List<?>) b;
                assertEquals(va.size(), vb.size(), what);
                for (int i = 0; i < va.size(); i++) {
                    double tolerance = Math.max(RELATIVE * Math.abs((Double) va.get(i)),
                            Math.max((Double) ra.get(i), (Double) rb.get(i)));
                    assertEquals((Double) va.get(i), (Double) vb.get(i), tolerance, what + "[" + i + "]");
                }
            } else if (name.endsWith("Residuals") && a != null) {
                // A residual is a Lanczos convergence measure: both are small against max |lambda|.
                double scale = Math.abs(((List<Double>) x.get(field.name().replace("Residuals", "Eigenvalues"))).get(0));
                List<?> va = (List<?>) a;
                List<?> vb = (List<?>) b;
                assertEquals(va.size(), vb.size(), what);
                for (int i = 0; i < va.size(); i++) {
                    assertTrue(Math.abs((Double) va.get(i) - (Double) vb.get(i)) <= 1e-5 * scale, what + "[" + i + "]: "
                            + va.get(i) + " vs " + vb.get(i));
                }
            } else {
                assertSameValue(a, b, what);
            }
        }
    }

    static void assertSameValue(Object a, Object b, String what) {
        if (a instanceof List<?> la) {
            assertTrue(b instanceof List<?>, what + " is published by one engine only");
            List<?> lb = (List<?>) b;
            assertEquals(la.size(), lb.size(), what);
            for (int i = 0; i < la.size(); i++) {
                assertSameValue(la.get(i), lb.get(i), what + "[" + i + "]");
            }
        } else if (a instanceof Double || b instanceof Double) {
            assertTrue(a != null && b != null, what + " is published by one engine only");
            double e = (Double) a;
            double g = (Double) b;
            assertTrue(Math.abs(e - g) <= RELATIVE * Math.max(Math.abs(e), 1e-12), what + ": per-run " + e
                    + ", ensemble " + g + " (relative " + Math.abs(e - g) / Math.abs(e) + ")");
        } else {
            assertEquals(a, b, what);
        }
    }

    /** The same files; meta.json equal; the arrays and published.json's numbers equal to a relative 1e-9. */
    static void assertSameFolder(Path expected, Path actual) throws IOException {
        assertEquals(files(expected), files(actual), actual.toString());
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(expected.resolve(SnapshotWriter.META).toFile()),
                json.readTree(actual.resolve(SnapshotWriter.META).toFile()), actual + " meta.json");
        assertSameJson(json.readTree(expected.resolve(SnapshotWriter.PUBLISHED).toFile()),
                json.readTree(actual.resolve(SnapshotWriter.PUBLISHED).toFile()), actual + " published.json");
        SnapshotData a = SnapshotData.read(expected);
        SnapshotData b = SnapshotData.read(actual);
        assertEquals(a.architecture(), b.architecture());
        assertEquals(a.iteration(), b.iteration());
        assertEquals(a.topK(), b.topK());
        assertEquals(a.priorSigma(), b.priorSigma());
        assertEquals(a.features(), b.features(), "X.npy");
        assertEquals(java.util.Arrays.toString(a.labels()), java.util.Arrays.toString(b.labels()), "y.npy");
        assertClose(a.theta(), b.theta(), actual + " W, b");
        assertEquals(a.theta0(), b.theta0(), actual + " theta0.npy");
    }

    private static void assertSameJson(JsonNode a, JsonNode b, String what) {
        assertEquals(a.isNumber(), b.isNumber(), what);
        if (a.isNumber()) {
            assertSameValue(a.doubleValue(), b.doubleValue(), what);
        } else if (a.isArray() || a.isObject()) {
            assertEquals(a.size(), b.size(), what);
            if (a.isArray()) {
                for (int i = 0; i < a.size(); i++) {
                    assertSameJson(a.get(i), b.get(i), what + "[" + i + "]");
                }
            } else {
                for (Iterator<String> names = a.fieldNames(); names.hasNext(); ) {
                    String name = names.next();
                    assertTrue(b.has(name), what + " lacks " + name);
                    assertSameJson(a.get(name), b.get(name), what + "." + name);
                }
            }
        } else {
            assertEquals(a, b, what);
        }
    }

    private static void assertClose(INDArray a, INDArray b, String what) {
        double[] x = a.toDoubleVector();
        double[] y = b.toDoubleVector();
        assertEquals(x.length, y.length, what);
        for (int i = 0; i < x.length; i++) {
            assertTrue(Math.abs(x[i] - y[i]) <= RELATIVE * Math.max(Math.abs(x[i]), 1e-12), what + "[" + i + "]: "
                    + x[i] + " vs " + y[i]);
        }
    }

    private static Set<String> files(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
