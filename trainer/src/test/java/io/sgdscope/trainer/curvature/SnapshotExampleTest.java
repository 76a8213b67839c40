package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.trainer.snapshot.SnapshotData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The snapshot example kept with the tests (src/test/resources/snapshot-example) is a Gauss-10 net after
 * 50 SGD steps with independently computed values (k = 7, sigma = 3): the curvature code, fed its weights
 * and data, reproduces them.
 */
class SnapshotExampleTest {

    static final Path EXAMPLE = Paths.get("src", "test", "resources", "snapshot-example");

    private static JsonNode published;
    private static SnapshotData snapshot;
    private static NetworkCurvature net;
    private static Spectra spectra;

    @BeforeAll
    static void load() throws Exception {
        assertTrue(Files.isDirectory(EXAMPLE), "the shared snapshot example is at " + EXAMPLE.toAbsolutePath());
        published = new ObjectMapper().readTree(EXAMPLE.resolve("published.json").toFile());
        snapshot = SnapshotData.read(EXAMPLE);
        net = NetworkCurvature.classifier(snapshot.architecture(), snapshot.theta(), snapshot.features(),
                snapshot.labels(), DataType.DOUBLE);
        spectra = new SpectrumProbe(snapshot.topK(), new Lanczos.Settings(400, 1e-10, 10), false, 5L).measure(net);
    }

    @Test
    void lossAndGradientMomentsMatchThePublishedValues() {
        GradientMoments moments = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
        close("loss", net.loss(), 1e-12);
        close("gradNormSq", moments.gradNormSq(), 1e-10);
        close("traceM", moments.traceM(), 1e-10);
        close("traceSigma", moments.traceSigma(), 1e-10);
        close("sigmaFrobenius", moments.sigmaFrobenius(), 1e-10);
        close("sigmaSpectral", moments.sigmaSpectral(), 1e-10);
        close("sigmaHalfMuNorm", moments.sigmaHalfMuNorm(), 1e-9);
    }

    @Test
    void topSevenEigenvaluesOfHessianSecondMomentAndResidualMatch() {
        closeAll("hessianEigenvalues", spectra.hessian().values(), 1e-8);
        closeAll("secondMomentEigenvalues", spectra.secondMoment().values(), 1e-8);
        closeAll("residualEigenvalues", spectra.predictionHessian().values(), 1e-8);
    }

    @Test
    void principalAngleCosinesMatch() {
        JsonNode expected = published.get("principalAngleCosines");
        double[] actual = spectra.principalAngleCosines();
        assertEquals(expected.size(), actual.length);
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected.get(i).asDouble(), actual[i], 1e-7, "principalAngleCosines[" + i + "]");
        }
    }

    @Test
    void exactHessianDiagonalAndCorollaryFourTermsWithSigmaThreeMatch() {
        double[] diagonal = net.hessianDiagonal().toDoubleVector();
        JsonNode expected = published.get("hessianDiagonal");
        assertEquals(expected.size(), diagonal.length);
        double[] reference = new double[diagonal.length];
        for (int j = 0; j < diagonal.length; j++) {
            reference[j] = expected.get(j).asDouble();
        }
        assertTrue(CurvatureFixtures.relativeError(diagonal, reference) < 1e-10);
        GeneralizationTerms terms = GeneralizationTerms.of(net.hessianDiagonal(), snapshot.theta(), snapshot.theta0(),
                snapshot.priorSigma(), net.samples(), 0.05);
        close("effectiveCurvature", terms.effectiveCurvature(), 1e-9);
        close("weightedFrobenius", terms.weightedFrobenius(), 1e-12);
    }

    private static void close(String key, double actual, double relative) {
        double expected = published.get(key).asDouble();
        assertEquals(expected, actual, relative * Math.abs(expected), key);
    }

    private static void closeAll(String key, double[] actual, double relative) {
        JsonNode expected = published.get(key);
        assertEquals(expected.size(), actual.length, key + " length");
        for (int i = 0; i < actual.length; i++) {
            double e = expected.get(i).asDouble();
            assertEquals(e, actual[i], relative * Math.abs(e), key + "[" + i + "]");
        }
    }
}
