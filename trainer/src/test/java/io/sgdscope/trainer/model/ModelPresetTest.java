package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelPresetTest {

    @Test
    void everyPresetHasTheParameterCountOfThePapersTables() {
        // Tables 2 and 3, copied from the paper.
        assertEquals(902, ModelPreset.fromId("gauss2").parameterCount());
        assertEquals(1_150, ModelPreset.fromId("gauss10").parameterCount());
        assertEquals(134_794, ModelPreset.fromId("mnist-mlp3").parameterCount());
        assertEquals(151_306, ModelPreset.fromId("mnist-mlp4").parameterCount());
        assertEquals(167_818, ModelPreset.fromId("mnist-mlp5").parameterCount());
        assertEquals(184_330, ModelPreset.fromId("mnist-mlp6").parameterCount());
        assertEquals(920_842, ModelPreset.fromId("cifar-mlp3").parameterCount());
        assertEquals(1_118_218, ModelPreset.fromId("cifar-mlp6").parameterCount());
        for (ModelPreset preset : ModelPreset.values()) {
            assertEquals(preset.tableParameterCount(), preset.parameterCount(), preset.id());
        }
    }

    @Test
    void presetsHaveThePapersWidths() {
        assertEquals(List.of(50, 10, 30, 10), ModelPreset.GAUSS10.architecture().layers());
        assertEquals(List.of(784, 128, 128, 128, 128, 10), ModelPreset.MNIST_MLP4.architecture().layers());
        assertEquals(List.of(3072, 256, 256, 256, 10), ModelPreset.CIFAR_MLP3.architecture().layers());
    }

    @Test
    void anUnknownPresetNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelPreset.fromId("resnet50"));
        assertEquals("unknown model 'resnet50' (known: gauss2, gauss10, mnist-mlp3, mnist-mlp4, mnist-mlp5, mnist-mlp6, "
                + "cifar-mlp3, cifar-mlp6)", e.getMessage());
    }
}
