package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Precision;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TrainerSettingsTest {

    @Test
    void defaultsAreThePapersGauss10Experiment() {
        TrainerSettings s = TrainerSettings.defaults();
        assertEquals(100, s.dataset().samples());
        assertEquals(50, s.dataset().inputDimension());
        assertEquals(10, s.dataset().classes());
        assertEquals(0.0, s.dataset().randomLabelFraction());
        assertEquals(List.of(50, 10, 30, 10), s.layers());
        assertEquals(5, s.batchSize());
        assertEquals(0.1, s.learningRate());
        assertEquals(400, s.iterations());
        assertEquals(Initialization.HE_NORMAL, s.initialization());
        assertEquals(Precision.FLOAT64, s.precision());
        assertEquals(true, s.dataset().standardize());
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
        assertMessage("experiment id must be 1 to 100 of the characters A-Z a-z 0-9 . _ -, got 'a b'",
                () -> TrainerSettings.builder().experimentId("a b").build());
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
        // One entry per record component, the dataset's six expanded.
        assertEquals(TrainerSettings.class.getRecordComponents().length - 1
                + GaussKSettings.class.getRecordComponents().length, map.size());
    }

    private static void assertMessage(String expected, Executable executable) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, executable);
        assertEquals(expected, e.getMessage());
    }
}
