package io.sgdscope.dl4j.curvature;

import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.doubles;
import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.names;
import static io.sgdscope.trainer.snapshot.SnapshotFolderCheck.readWithNumpy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.snapshot.SnapshotData;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Snapshot folders of the DL4J Gauss-10 net, read back by the project's own checks: the trainer's
 * {@link SnapshotData} reader and curvature code (which must reproduce the moments the DL4J probes
 * published, as the trainer's SnapshotFolderTest does for its own runs), the file names, shapes and dtype
 * kinds of the trainer's example folder (trainer/src/test/resources/snapshot-example, the same
 * architecture), and numpy (Debian's python3-numpy) recomputing the published loss from the files.
 */
class Dl4jSnapshotsTest {

    private static final Path EXAMPLE = Paths.get("..", "trainer", "src", "test", "resources", "snapshot-example");
    private static final String RUN = "dl4j-r0";
    private static final int T = 30;

    @TempDir
    static Path root;
    private static Gauss10Networks.Fixture fixture;
    private static IterationMetrics metrics;
    private static SpectrumSnapshot spectrum;
    private static IterationMetrics metricsAtZero;

    @BeforeAll
    static void write() throws IOException {
        fixture = Gauss10Networks.trained(T, 31L);
        ParameterLayout layout = ParameterLayout.of(fixture.net());
        INDArray theta0 = layout.toDl4j(Nd4j.createFromArray(fixture.theta0()));
        CurvatureProbe.Result result = new CurvatureProbe(fixture.net(), ProbeSettings.defaults().withTopK(5)
                .withLanczos(new Lanczos.Settings(300, 1e-8, 10))).both(fixture.features(), fixture.oneHot());
        metrics = published(result.moments());
        spectrum = result.spectrum().toRecord(RUN, "dl4j", T, 0L);
        Dl4jSnapshots.write(root, RUN, T, fixture.net(), theta0, fixture.features(), fixture.oneHot(), 5, 3.0,
                metrics, spectrum);
        // t = 0: the network at theta_0, no spectrum.
        MultiLayerNetwork start = Gauss10Networks.denseNet(Gauss10Networks.GAUSS_10, DataType.DOUBLE);
        start.setParams(theta0.reshape(1, -1));
        metricsAtZero = published(new CurvatureProbe(start, ProbeSettings.defaults().withTopK(5))
                .moments(fixture.features(), fixture.oneHot()));
        Dl4jSnapshots.write(root, RUN, 0, start, theta0, fixture.features(), fixture.oneHot(), 5, 3.0, metricsAtZero,
                null);
    }

    /** What a listener would publish: the probe-set loss (the whole Gauss-10 training set here) and the moments. */
    private static IterationMetrics published(ProbeMoments moments) {
        IterationMetrics record = new IterationMetrics();
        record.setLoss(moments.loss());
        return moments.applyTo(record);
    }

    @Test
    void theFolderHoldsTheFilesOfTheTrainersExampleAndReadsBackAsTheTrainersTheta() throws IOException {
        Set<String> expected = names(EXAMPLE);
        expected.remove("README.md");
        assertEquals(expected, names(root.resolve(RUN).resolve(Integer.toString(T))));
        SnapshotData data = SnapshotData.read(root.resolve(RUN).resolve(Integer.toString(T)));
        assertEquals(Gauss10Networks.GAUSS_10, data.architecture());
        assertEquals(T, data.iteration());
        assertEquals(5, data.topK());
        assertArrayEquals(fixture.theta(), data.theta().toDoubleVector(), 0.0);
        assertArrayEquals(fixture.theta0(), data.theta0().toDoubleVector(), 0.0);
        assertArrayEquals(fixture.data().labels(), data.labels());
        assertArrayEquals(fixture.features().toDoubleMatrix(), data.features().toDoubleMatrix());
    }

    @Test
    void theTrainersCurvatureCodeFedTheFolderReproducesTheMomentsTheDl4jProbesPublished() throws IOException {
        Path folder = root.resolve(RUN).resolve(Integer.toString(T));
        JsonNode published = new ObjectMapper().readTree(folder.resolve("published.json").toFile());
        SnapshotData data = SnapshotData.read(folder);
        try (NetworkCurvature net = NetworkCurvature.classifier(data.architecture(), data.theta(), data.features(),
                data.labels(), DataType.DOUBLE)) {
            GradientMoments m = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
            close(published, "loss", net.loss(), 1e-12);
            close(published, "gradNormSq", m.gradNormSq(), 1e-9);
            close(published, "traceM", m.traceM(), 1e-9);
            close(published, "traceSigma", m.traceSigma(), 1e-9);
            close(published, "sigmaFrobenius", m.sigmaFrobenius(), 1e-9);
            close(published, "sigmaSpectral", m.sigmaSpectral(), 1e-9);
            close(published, "sigmaHalfMuNorm", m.sigmaHalfMuNorm(), 1e-9);
        }
        assertEquals(spectrum.getHessianEigenvalues(), doubles(published.get("hessianEigenvalues")));
        assertEquals(spectrum.getPrincipalAngleCosines(), doubles(published.get("principalAngleCosines")));
        assertEquals(T, published.get("iteration").asInt());
    }

    @Test
    void numpyReadsTheFilesLikeTheExampleAndRecomputesThePublishedLoss() throws Exception {
        JsonNode ours = readWithNumpy(root.resolve(RUN).resolve(Integer.toString(T)));
        JsonNode example = readWithNumpy(EXAMPLE);
        for (String name : List.of("X", "y", "W0", "b0", "W1", "b1", "W2", "b2", "theta0")) {
            assertEquals(example.path("shapes").path(name), ours.path("shapes").path(name), name + " shape");
            assertEquals(example.path("kinds").path(name), ours.path("kinds").path(name), name + " dtype kind");
        }
        assertEquals(metrics.getLoss(), ours.path("loss").asDouble(), 1e-12 * metrics.getLoss(), "numpy's loss");
        assertEquals(metrics.getLoss(), ours.path("publishedLoss").asDouble(), 0.0);
        JsonNode zero = readWithNumpy(root.resolve(RUN).resolve("0"));
        assertTrue(zero.path("flatEqualsTheta0").asBoolean(), "at t = 0, W{l} row-major then b{l} is theta0.npy");
        assertEquals(metricsAtZero.getLoss(), zero.path("loss").asDouble(), 1e-12 * metricsAtZero.getLoss());
    }

    @Test
    void labelsThatAreNotOneHotAndNonReluNetworksAreRefusedWithOneLine() {
        INDArray labels = fixture.oneHot().dup();
        labels.putScalar(3, 0, 0.5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dl4jSnapshots.write(root, "x", 1,
                fixture.net(), fixture.net().params(), fixture.features(), labels, 5, 3.0, metrics, null));
        assertEquals("label row 3 is not one-hot", e.getMessage());
        MultiLayerNetwork tanh = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build());
        tanh.init();
        e = assertThrows(IllegalArgumentException.class, () -> Dl4jSnapshots.write(root, "x", 1, tanh, tanh.params(),
                Nd4j.zeros(DataType.DOUBLE, 1, 3), Nd4j.createFromArray(new double[][] {{1, 0}}), 1, 1.0, metrics, null));
        assertEquals("snapshot folders describe relu layers with a softmax cross-entropy output; layer 0 has tanh",
                e.getMessage());
    }

    private static void close(JsonNode published, String key, double actual, double relative) {
        double expected = published.get(key).asDouble();
        assertEquals(expected, actual, relative * Math.abs(expected), key);
    }
}
