package io.sgdscope.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.client.DataDescription;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.dl4j.curvature.ParameterLayout;
import io.sgdscope.dl4j.curvature.ProbeSettings;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.DenseCurvature;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.snapshot.SnapshotData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The listener with curvature probes on the DL4J Gauss-10 net ([50, 10, 30, 10], float64, SGD eta 0.1, batch 5, probe
 * set = the whole training set, n = 100) for 11 iterations, moments every 4, a spectrum every 10 and snapshot folders at
 * t = 0 and 8, against the trainer's exact curvature code on theta_t taken aside by a second listener: its moments
 * (Gram identities, Eq. 4-7), its dense H_f and M_t eigenvalues (LAPACK), and its SnapshotData reader.
 */
class ListenerCurvatureTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final int ITERATIONS = 11;
    private static final int K = 5;

    @TempDir
    static Path snapshots;
    private static Dataset train;
    private static ParameterLayout layout;
    private static double[] theta0;
    private static final List<INDArray> thetas = new ArrayList<>();     // theta_t in DL4J's order, t = 0 .. 10
    private static List<IterationMetrics> published;
    private static List<SpectrumSnapshot> spectra;
    private static String runId;

    @BeforeAll
    static void train() {
        train = GaussK.generate(GaussKSettings.GAUSS_10);
        SplittableRandom random = new SplittableRandom(11L);
        theta0 = Initialization.HE_NORMAL.draw(GAUSS_10, random.split());
        MinibatchSampler sampler = new MinibatchSampler(train.samples(), 5, random.split());
        MultiLayerNetwork net = Gauss10Nets.multiLayer(GAUSS_10.layers(), 0.1, theta0);
        layout = ParameterLayout.of(net);
        ProbeSet probe = ProbeSet.of(Gauss10Nets.all(train), "training set (n = 100)");
        CurvatureCadence cadence = CurvatureCadence.none().withMomentsEvery(4).withSpectrumEvery(10)
                .withSnapshots(snapshots, Set.of(0, 8))
                .withProbe(ProbeSettings.defaults().withTopK(K).withLanczos(new Lanczos.Settings(300, 1e-8, 10)));
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        try (RunPublisher run = SgdscopeClient.over(sink).startRun(Dl4jRuns.builder("curv", 0, net, probe)
                .data(DataDescription.of("gauss-k", 100, 50, 10)).build())) {
            runId = run.runId();
            SgdscopeTrainingListener listener = SgdscopeTrainingListener.attach(net, run, probe, cadence);
            net.addListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    thetas.add(model.params().dup().reshape(-1));            // theta_t, before the update
                }
            });
            for (int t = 0; t < ITERATIONS; t++) {
                net.fit(Gauss10Nets.batch(train, sampler.next()));
            }
            listener.finish();
        }
        published = sink.iterations(runId);
        spectra = sink.spectra(runId);
    }

    private static NetworkCurvature trainerAt(int t) {
        return NetworkCurvature.classifier(GAUSS_10, layout.toTrainer(thetas.get(t)), train.features(), train.labels(),
                DataType.DOUBLE);
    }

    @Test
    void theMomentsAndLArePublishedAtTheirIterationsOnlyAndEqualTheTrainersOnTheSameParameters() {
        assertEquals(ITERATIONS, published.size());
        assertEquals(ITERATIONS, thetas.size());
        for (int t = 0; t < ITERATIONS; t++) {
            IterationMetrics record = published.get(t);
            String at = "t = " + t;
            if (t % 4 != 0) {
                assertNull(record.getGradNormSq(), at);
                assertNull(record.getTraceM(), at);
                assertNull(record.getSigmaSpectral(), at);
                assertNull(record.getHessianSpectralNorm(), at);
                assertNull(record.getProbeSeconds(), at);
                continue;
            }
            try (NetworkCurvature net = trainerAt(t)) {
                GradientMoments m = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
                close(at + " loss", net.loss(), record.getLoss(), 1e-9);
                close(at + " gradNormSq", m.gradNormSq(), record.getGradNormSq(), 1e-9);
                close(at + " traceM", m.traceM(), record.getTraceM(), 1e-9);
                close(at + " traceSigma", m.traceSigma(), record.getTraceSigma(), 1e-9);
                close(at + " sigmaFrobenius", m.sigmaFrobenius(), record.getSigmaFrobenius(), 1e-9);
                close(at + " sigmaSpectral", m.sigmaSpectral(), record.getSigmaSpectral(), 1e-9);
                close(at + " sigmaHalfMuNorm", m.sigmaHalfMuNorm(), record.getSigmaHalfMuNorm(), 1e-9);
                double[] h = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.hessian()));
                double l = Math.max(Math.abs(h[0]), Math.abs(h[h.length - 1]));
                // L: a Lanczos lower estimate (8 steps), or the converged spectrum's at t = 0 (moments and spectrum).
                double lower = t == 0 ? l * (1 - 1e-6) : 0.5 * l;
                assertTrue(record.getHessianSpectralNorm() <= l * (1 + 1e-6) && record.getHessianSpectralNorm() >= lower,
                        at + " L " + record.getHessianSpectralNorm() + " against the dense " + l);
                assertTrue(record.getProbeSeconds() > 0, at);
            }
        }
    }

    @Test
    void spectraArePublishedAtTheirIterationsWithTheDenseTopEigenvalues() {
        assertEquals(List.of(0, 10), spectra.stream().map(SpectrumSnapshot::getIteration).toList());
        for (SpectrumSnapshot s : spectra) {
            int t = s.getIteration();
            assertEquals(runId, s.getRunId());
            assertEquals(K, s.getTopK());
            try (NetworkCurvature net = trainerAt(t)) {
                double[] h = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.hessian()));
                double[] m = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.secondMoment()));
                double scale = h[h.length - 1];
                for (int j = 0; j < K; j++) {
                    // Ritz residual + the finite-difference error (< 1e-6 of the top eigenvalue, CurvatureProbeTest).
                    assertEquals(h[h.length - 1 - j], s.getHessianEigenvalues().get(j),
                            s.getHessianResiduals().get(j) + 1e-6 * scale, "t = " + t + " H eigenvalue " + j);
                    assertEquals(m[m.length - 1 - j], s.getSecondMomentEigenvalues().get(j),
                            s.getSecondMomentResiduals().get(j) + 1e-10 * m[m.length - 1], "t = " + t + " M eigenvalue " + j);
                }
            }
        }
    }

    @Test
    void snapshotFoldersAtTheRequestedIterationsReadBackAndReproduceThePublishedLossAndMoments() throws IOException {
        assertEquals(new TreeSet<>(List.of("0", "8")), names(snapshots.resolve(runId)));
        for (int t : List.of(0, 8)) {
            Path folder = snapshots.resolve(runId).resolve(Integer.toString(t));
            SnapshotData data = SnapshotData.read(folder);
            assertEquals(t, data.iteration());
            assertEquals(K, data.topK());
            assertArrayEquals(layout.toTrainer(thetas.get(t)).toDoubleVector(), data.theta().toDoubleVector(), 0.0);
            assertArrayEquals(theta0, data.theta0().toDoubleVector(), 0.0);
            assertArrayEquals(train.labels(), data.labels());
            JsonNode json = new ObjectMapper().readTree(folder.resolve("published.json").toFile());
            IterationMetrics record = published.get(t);
            assertEquals(record.getLoss(), json.get("loss").asDouble(), 0.0);
            assertEquals(record.getTraceSigma(), json.get("traceSigma").asDouble(), 0.0);
            try (NetworkCurvature net = NetworkCurvature.classifier(data.architecture(), data.theta(), data.features(),
                    data.labels(), DataType.DOUBLE)) {
                GradientMoments m = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
                close("t = " + t + " loss", net.loss(), json.get("loss").asDouble(), 1e-9);
                close("t = " + t + " gradNormSq", m.gradNormSq(), json.get("gradNormSq").asDouble(), 1e-9);
                close("t = " + t + " traceM", m.traceM(), json.get("traceM").asDouble(), 1e-9);
                close("t = " + t + " sigmaSpectral", m.sigmaSpectral(), json.get("sigmaSpectral").asDouble(), 1e-9);
                close("t = " + t + " sigmaHalfMuNorm", m.sigmaHalfMuNorm(), json.get("sigmaHalfMuNorm").asDouble(), 1e-9);
            }
            assertEquals(t == 0, json.has("hessianEigenvalues") && !json.get("hessianEigenvalues").isNull(),
                    "t = " + t + ": the spectrum of t is in published.json exactly when one was published");
        }
    }

    @Test
    void badSettingsAreRefusedWithOneLine() {
        refused("moments every N iterations needs N >= 0 (0 = off), got -1",
                () -> CurvatureCadence.none().withMomentsEvery(-1));
        refused("a spectrum every N iterations needs N >= 0 (0 = off), got -5",
                () -> CurvatureCadence.none().withSpectrumEvery(-5));
        refused("snapshots at iterations [0, 100] need a directory",
                () -> CurvatureCadence.none().withSnapshots(null, Set.of(100, 0)));
        refused("snapshot iterations must be >= 0, got -3",
                () -> CurvatureCadence.none().withSnapshots(snapshots, Set.of(-3)));
        MultiLayerNetwork net = Gauss10Nets.multiLayer(GAUSS_10.layers(), 0.1, theta0);
        ProbeSet minibatch = ProbeSet.currentMinibatch();
        try (RunPublisher run = SgdscopeClient.over(new InMemoryTelemetrySink()).startRun(
                Dl4jRuns.builder("bad", 0, net, minibatch).data(DataDescription.of("gauss-k", 100, 50, 10)).build())) {
            refused("the curvature probes need a probe set of one DataSet (features and one-hot labels), not "
                            + "\"none: loss is the minibatch loss\"",
                    () -> SgdscopeTrainingListener.attach(net, run, minibatch,
                            CurvatureCadence.none().withSnapshots(snapshots, Set.of(0))));
        }
        assertTrue(!CurvatureCadence.none().any());
    }

    private static void refused(String message, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
    }

    private static void close(String what, double expected, Double actual, double relative) {
        assertNotNull(actual, what);
        assertEquals(expected, actual, relative * Math.abs(expected), what);
    }

    private static Set<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
