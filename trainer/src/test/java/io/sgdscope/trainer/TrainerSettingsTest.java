package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TrainerSettingsTest {

    @Test
    void defaultsAreThePapersGauss10Experiment() {
        TrainerSettings s = TrainerSettings.defaults();
        assertEquals(GaussKSettings.GAUSS_10, s.dataset().gaussK());
        assertEquals(100, s.dataset().samples().getAsInt());
        assertEquals(50, s.dataset().inputDimension());
        assertEquals(10, s.dataset().classes());
        assertEquals(0.0, s.dataset().gaussK().randomLabelFraction());
        assertEquals(List.of(50, 10, 30, 10), s.layers());
        assertEquals(5, s.batchSize());
        assertEquals(0.1, s.learningRate());
        assertEquals(400, s.iterations());
        assertEquals(Initialization.HE_NORMAL, s.initialization());
        assertEquals(Precision.FLOAT64, s.precision());
        assertEquals(true, s.dataset().gaussK().standardize());
        assertTrue(s.dataset().testSet(), "a test set from the same blobs");
        assertEquals(10, s.testEvery());
    }

    @Test
    void zeroOrNegativeLearningRateIsRejectedWithOneLineNamingIt() {
        assertMessage("learning rate must be > 0, got -0.1", () -> TrainerSettings.builder().learningRate(-0.1).build());
        assertMessage("learning rate must be > 0, got 0.0", () -> TrainerSettings.builder().learningRate(0).build());
        assertMessage("learning rate must be > 0, got NaN", () -> TrainerSettings.builder().learningRate(Double.NaN).build());
        assertMessage("learning rate must be finite, got Infinity",
                () -> TrainerSettings.builder().learningRate(Double.POSITIVE_INFINITY).build());
    }

    @Test
    void batchLargerThanTheTrainingSetIsRejected() {
        assertMessage("batch size 500 is larger than the training set (n = 100)",
                () -> TrainerSettings.builder().batchSize(500).build());
        assertMessage("batch size must be >= 1, got 0", () -> TrainerSettings.builder().batchSize(0).build());
    }

    @Test
    void layersThatDoNotStartWithDAndEndWithKAreRejected() {
        assertMessage("layers must start with the input dimension d = 50 and end with the number of classes k = 10, "
                + "got [40, 10, 30, 10]", () -> TrainerSettings.builder().layers(List.of(40, 10, 30, 10)).build());
        assertMessage("layers must start with the input dimension d = 50 and end with the number of classes k = 10, "
                + "got [50, 10, 30, 2]", () -> TrainerSettings.builder().layers(List.of(50, 10, 30, 2)).build());
        assertMessage("layers must list at least the input and output widths [d, ..., k], got [50]",
                () -> TrainerSettings.builder().layers(List.of(50)).build());
        assertMessage("layer widths must be >= 1, got [50, 0, 10]",
                () -> TrainerSettings.builder().layers(List.of(50, 0, 10)).build());
        assertMessage("layer widths must be >= 1, got [50, null, 10]",
                () -> TrainerSettings.builder().layers(Arrays.asList(50, null, 10)).build());
    }

    @Test
    void otherInvalidSettingsAreRejectedWithOneLineNamingThem() {
        assertMessage("runs must be between 1 and 100000, got 0", () -> TrainerSettings.builder().runs(0).build());
        assertMessage("iterations must be >= 1, got 0", () -> TrainerSettings.builder().iterations(0).build());
        assertMessage("workers must be >= 1, got 0", () -> TrainerSettings.builder().workers(0).build());
        assertMessage("experiment id 'a b' has characters other than A-Z a-z 0-9 . _ -",
                () -> TrainerSettings.builder().experimentId("a b").build());
        assertMessage("experiment id must not be '..' (it names a folder)",
                () -> TrainerSettings.builder().experimentId("..").build());
        assertMessage("experiment id is 94 characters long, at most 93 allowed (its run ids add -r and 5 digits, 100 at most)",
                () -> TrainerSettings.builder().experimentId("e".repeat(94)).build());
        assertEquals(100, Experiment.runId("e".repeat(93), 99_999).length());
        assertMessage("random label fraction r must be in [0, 1], got 1.5",
                () -> new GaussKSettings(100, 50, 10, 1.5, 1, true));
        assertMessage("dataset samples n = 5 must be at least the number of classes k = 10",
                () -> new GaussKSettings(5, 50, 10, 0, 1, true));
    }

    @Test
    void everySettingAppearsInTheProvenanceMap() {
        TrainerSettings s = TrainerSettings.builder().experimentId("e1").runs(3).learningRate(0.05)
                .dataset(GaussKSettings.GAUSS_10.withRandomLabelFraction(0.15)).build();
        Map<String, String> map = s.asMap();
        assertEquals("e1", map.get("experimentId"));
        assertEquals("3", map.get("runs"));
        assertEquals("0.05", map.get("learningRate"));
        assertEquals("0.15", map.get("dataset.randomLabelFraction"));
        assertEquals("[50, 10, 30, 10]", map.get("layers"));
        assertEquals("he-normal", map.get("initialization"));
        assertEquals("float64", map.get("precision"));
        assertEquals("10", map.get("curvature.momentsEvery"));
        assertEquals("200", map.get("curvature.spectrumEvery"));
        assertEquals(Double.toString(Math.sqrt((2.0 * 10 + 2.0 * 30 + 2.0 * 10) / 1150)), map.get("curvature.priorSigma"));
        assertEquals("gauss-k", map.get("dataset.name"));
        assertEquals("true", map.get("dataset.testSet"));
        assertEquals("10", map.get("testEvery"));
        assertEquals("gauss10", map.get("model"), "the layers are Table 2's Gauss-10 net");
        assertEquals("sgd", map.get("optimizer.name"));
        assertEquals("1.0", map.get("optimizer.kappa"));
        assertEquals("0", map.get("checkpoint.every"));
        assertEquals("", map.get("checkpoint.dir"));
        // One entry per record component, the optimizer's six, the dataset's (name, Gauss-k's six, test set and its
        // size), the curvature's eight and the checkpoints' folder and cadence (resuming is not a setting of the
        // runs) expanded, plus the model preset the layers match; the shard only when the experiment is sharded.
        assertEquals(TrainerSettings.class.getRecordComponents().length - 4
                + OptimizerSettings.class.getRecordComponents().length
                + 1 + GaussKSettings.class.getRecordComponents().length + 2
                + CurvatureSettings.class.getRecordComponents().length + 2 + 1 - 1, map.size());
        Map<String, String> sharded = s.toBuilder().shard(new Shard(2, 3)).build().asMap();
        assertEquals("2/3", sharded.get("shard"));
        assertEquals(map.size() + 1, sharded.size());
    }

    @Test
    void invalidCurvatureSettingsAreRejectedWithOneLineNamingThem() {
        CurvatureSettings c = CurvatureSettings.defaults();
        assertMessage("moments-every must be >= 0 (0 = never), got -1", () -> c.withMomentsEvery(-1));
        assertMessage("spectrum-every must be >= 0 (0 = never), got -5", () -> c.withSpectrumEvery(-5));
        assertMessage("top-k must be between 1 and 200, got 0", () -> c.withTopK(0));
        assertMessage("snapshot-at needs a snapshot-dir to write the folders into",
                () -> c.withSnapshots(List.of(3), null));
        assertMessage("snapshot-at iterations must be >= 0, got -2",
                () -> c.withSnapshots(List.of(-2), java.nio.file.Path.of("x")));
        assertMessage("prior-sigma must be > 0 and finite, got 0.0", () -> c.withPriorSigma(0.0));
        assertMessage("bound-delta must be in (0, 1), got 1.0", () -> c.withBoundDelta(1.0));
        assertMessage("snapshot-at iteration 400 is past the last iteration (399)",
                () -> TrainerSettings.builder().curvature(c.withSnapshots(List.of(5, 400), java.nio.file.Path.of("x")))
                        .build());
    }

    @Test
    void curvatureCadencesSelectTheIterationsAndSnapshotsForceMomentsAndSpectra() {
        CurvatureSettings c = CurvatureSettings.defaults().withMomentsEvery(10).withSpectrumEvery(0)
                .withSnapshots(List.of(7, 3, 7), java.nio.file.Path.of("x"));
        assertEquals(List.of(3, 7), c.snapshotAt());
        assertTrue(c.momentsAt(0) && c.momentsAt(20) && c.momentsAt(3) && c.momentsAt(7));
        assertFalse(c.momentsAt(5));
        assertTrue(c.spectrumAt(3) && c.spectrumAt(7));
        assertFalse(c.spectrumAt(0) || c.spectrumAt(10));
        assertEquals(1.0, TrainerSettings.builder().initialization(Initialization.STANDARD_NORMAL).build().priorSigma());
        assertEquals(3.0, TrainerSettings.builder().curvature(c.withPriorSigma(3.0)).build().priorSigma());
    }

    private static void assertMessage(String expected, Executable executable) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, executable);
        assertEquals(expected, e.getMessage());
    }
}
