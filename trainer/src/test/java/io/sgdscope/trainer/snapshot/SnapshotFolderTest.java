package io.sgdscope.trainer.snapshot;

import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.doubles;
import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.names;
import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.readWithNumpy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.StepObserver;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@code --snapshot-at 0,7 --snapshot-dir DIR}: the folders a run writes hold exactly the files of
 * the snapshot example kept with the tests (src/test/resources/snapshot-example), numpy (Debian's
 * python3-numpy) reads them and recomputes the loss that was published, and published.json holds the
 * very values of the published records.
 */
class SnapshotFolderTest {

    static final Path EXAMPLE = Paths.get("src", "test", "resources", "snapshot-example");
    private static final String RUN = "snap-r00000";
    private static final Dataset GAUSS_10 = GaussK.generate(GaussKSettings.GAUSS_10);

    @TempDir
    static Path root;
    private static InMemoryTelemetrySink sink;

    @BeforeAll
    static void train() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("snap").runs(1).iterations(10).workers(1)
                .curvature(CurvatureSettings.defaults().withMomentsEvery(0).withSpectrumEvery(0).withTopK(7)
                        .withSnapshots(List.of(7, 0), root))
                .build();
        sink = new InMemoryTelemetrySink();
        ExperimentResult result = io.sgdscope.trainer.PerRunEngine.experiment(settings, GAUSS_10, sink, ExperimentListener.none(),
                StepObserver.none()).run();
        assertEquals(1, result.count(RunStatus.COMPLETED), result.runs().toString());
    }

    @Test
    void eachSnapshotFolderHoldsExactlyTheFilesOfTheSharedExample() throws IOException {
        Set<String> expected = names(EXAMPLE);
        expected.remove("README.md");
        for (int t : new int[] {0, 7}) {
            assertEquals(expected, names(root.resolve(RUN).resolve(Integer.toString(t))), "files at t = " + t);
        }
        assertEquals(Set.of("0", "7"), names(root.resolve(RUN)));
    }

    @Test
    void numpyReadsTheFilesWithTheShapesAndDtypeKindsOfTheExampleAndRecomputesThePublishedLoss() throws Exception {
        Path folder = root.resolve(RUN).resolve("7");
        JsonNode ours = readWithNumpy(folder);
        JsonNode example = readWithNumpy(EXAMPLE);
        for (String name : List.of("X", "y", "W0", "b0", "W1", "b1", "W2", "b2", "theta0")) {
            assertEquals(example.path("shapes").path(name), ours.path("shapes").path(name), name + " shape");
            assertEquals(example.path("kinds").path(name), ours.path("kinds").path(name), name + " dtype kind");
        }
        // At t = 0 the weights are theta_0: W{l} row-major then b{l}, layer by layer, is exactly theta0.npy.
        assertTrue(readWithNumpy(root.resolve(RUN).resolve("0")).path("flatEqualsTheta0").asBoolean(),
                "the flat order of W{l}, b{l} is that of theta0.npy");
        IterationMetrics record = sink.iterations(RUN).get(7);
        assertEquals(record.getLoss(), ours.path("loss").asDouble(), 1e-12 * record.getLoss(), "numpy's loss");
        assertEquals(record.getLoss(), ours.path("publishedLoss").asDouble(), 0.0);
        // The example's own numbers pass the same recomputation (a check of the check).
        assertEquals(example.path("publishedLoss").asDouble(), example.path("loss").asDouble(), 1e-12);
    }

    @Test
    void publishedJsonHoldsTheValuesThatWentToKafka() throws IOException {
        JsonNode published = new ObjectMapper().readTree(root.resolve(RUN).resolve("7").resolve("published.json").toFile());
        IterationMetrics record = sink.iterations(RUN).get(7);
        SpectrumSnapshot spectrum = sink.spectra(RUN).stream().filter(s -> s.getIteration() == 7).findFirst().orElseThrow();
        assertEquals(record.getGradNormSq(), published.get("gradNormSq").asDouble(), 0.0);
        assertEquals(record.getTraceM(), published.get("traceM").asDouble(), 0.0);
        assertEquals(record.getSigmaHalfMuNorm(), published.get("sigmaHalfMuNorm").asDouble(), 0.0);
        assertEquals(spectrum.getHessianEigenvalues(), doubles(published.get("hessianEigenvalues")));
        assertEquals(spectrum.getSecondMomentEigenvalues(), doubles(published.get("secondMomentEigenvalues")));
        assertEquals(spectrum.getPredictionHessianEigenvalues(), doubles(published.get("residualEigenvalues")));
        assertEquals(spectrum.getPrincipalAngleCosines(), doubles(published.get("principalAngleCosines")));
        assertEquals(spectrum.getHessianDiagonal(), doubles(published.get("hessianDiagonal")));
        assertEquals(spectrum.getEffectiveCurvature(), published.get("effectiveCurvature").asDouble(), 0.0);
        assertEquals(spectrum.getWeightedFrobenius(), published.get("weightedFrobenius").asDouble(), 0.0);
        assertEquals(7, spectrum.getTopK());
        assertEquals(7, doubles(published.get("hessianEigenvalues")).size());
    }

    @Test
    void theCurvatureCodeFedTheWrittenFolderReproducesItsPublishedMoments() throws IOException {
        SnapshotData data = SnapshotData.read(root.resolve(RUN).resolve("7"));
        assertEquals(7, data.iteration());
        assertEquals(7, data.topK());
        JsonNode published = new ObjectMapper().readTree(root.resolve(RUN).resolve("7").resolve("published.json").toFile());
        try (NetworkCurvature net = NetworkCurvature.classifier(data.architecture(), data.theta(), data.features(),
                data.labels(), DataType.DOUBLE)) {
            GradientMoments moments = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
            assertEquals(published.get("loss").asDouble(), net.loss(), 1e-13);
            assertEquals(published.get("traceM").asDouble(), moments.traceM(), 1e-12 * moments.traceM());
            assertEquals(published.get("sigmaSpectral").asDouble(), moments.sigmaSpectral(), 1e-12 * moments.sigmaSpectral());
        }
        assertNotNull(data.theta0());
    }
}
