package io.sgdscope.dl4j.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.NetworkCurvature;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * DL4J's own gradient of the Gauss-10 net (through the float64 twin) against the trainer's exact gradient
 * of the same net at the same parameters (NetworkCurvature, float64): the two backpropagations agree to
 * rounding once DL4J's flat order is mapped, and DL4J's score is the mean loss.
 */
class GradientModelTest {

    @Test
    void dl4jsFullBatchGradientAndLossEqualTheTrainersOnTheSameParameters() {
        Gauss10Networks.Fixture f = Gauss10Networks.trained(30, 11L);
        GradientModel model = GradientModel.of(f.net());
        model.synchronize();
        INDArray gradient = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        double loss = model.lossAndGradient(f.features(), f.oneHot(), gradient);
        try (NetworkCurvature reference = f.trainerCurvature()) {
            double[] expected = reference.gradient().toDoubleVector();
            double[] actual = ParameterLayout.of(f.net()).toTrainer(gradient).toDoubleVector();
            assertTrue(relativeError(actual, expected) < 1e-9, "relative error " + relativeError(actual, expected));
            assertEquals(reference.loss(), loss, 1e-12 * reference.loss());
        }
    }

    @Test
    void theTwinTakesOtherParametersWithoutTouchingTheTrainedNetwork() {
        Gauss10Networks.Fixture f = Gauss10Networks.trained(5, 12L);
        double[] before = f.net().params().toDoubleVector();
        GradientModel model = GradientModel.of(f.net());
        model.setParameters(Nd4j.zeros(DataType.DOUBLE, model.parameterCount()));
        model.lossAndGradient(f.features(), f.oneHot(), Nd4j.create(DataType.DOUBLE, model.parameterCount()));
        assertArrayEquals(before, f.net().params().toDoubleVector(), 0.0);
        model.synchronize();
        assertArrayEquals(before, model.parameters().toDoubleVector(), 0.0);
    }

    @Test
    void aFloat32NetworkGetsAFloat64Twin() {
        Gauss10Networks.Fixture f = Gauss10Networks.trained(5, 13L);
        MultiLayerNetwork single = f.net().convertDataType(DataType.FLOAT);
        GradientModel model = GradientModel.of(single);
        model.synchronize();
        INDArray gradient = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        model.lossAndGradient(f.features(), f.oneHot(), gradient);
        assertEquals(DataType.DOUBLE, model.parameters().dataType());
        // The float32 parameters widened exactly: the twin's values are the float32 ones.
        assertArrayEquals(single.params().toDoubleVector(), model.parameters().toDoubleVector(), 0.0);
    }

    @Test
    void aNetworkWithDropoutIsRefusedWithOneLine() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).dropOut(0.5).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradientModel.of(net));
        assertEquals("layer 0 has dropout: the probes need a deterministic gradient", e.getMessage());
    }

    static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
