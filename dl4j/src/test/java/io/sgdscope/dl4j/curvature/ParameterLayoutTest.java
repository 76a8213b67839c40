package io.sgdscope.dl4j.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.trainer.model.MlpArchitecture;
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
 * The mapping between DL4J's flat parameters and the trainer's theta, checked against DL4J's own named
 * parameter arrays ({@code getParam("l_W")}, [in, out], and {@code "l_b"}): the reference is DL4J's view of
 * its weights, not the layout's formula.
 */
class ParameterLayoutTest {

    private static final MlpArchitecture ARCHITECTURE = MlpArchitecture.of(5, 4, 3, 2);

    @Test
    void trainerThetaMappedToDl4jIsReadBackByDl4jAsTheRowMajorWeightBlocksAndTheBiases() {
        MultiLayerNetwork net = Gauss10Networks.denseNet(ARCHITECTURE, DataType.DOUBLE);
        ParameterLayout layout = ParameterLayout.of(net);
        assertEquals(ARCHITECTURE, layout.architecture());
        int p = ARCHITECTURE.parameterCount();
        double[] theta = new double[p];
        for (int j = 0; j < p; j++) {
            theta[j] = j + 1;                                       // every value distinct
        }
        net.setParams(layout.toDl4j(Nd4j.createFromArray(theta)).reshape(1, p));
        for (int l = 0; l < ARCHITECTURE.depth(); l++) {
            double[][] w = net.getParam(l + "_W").toDoubleMatrix();
            double[] b = net.getParam(l + "_b").toDoubleVector();
            int in = ARCHITECTURE.fanIn(l);
            int out = ARCHITECTURE.fanOut(l);
            assertEquals(in, w.length, "rows of W" + l);
            for (int r = 0; r < in; r++) {
                for (int c = 0; c < out; c++) {
                    assertEquals(theta[ARCHITECTURE.weightOffset(l) + r * out + c], w[r][c], 0.0, "W" + l + "[" + r + "][" + c + "]");
                }
            }
            for (int c = 0; c < out; c++) {
                assertEquals(theta[ARCHITECTURE.biasOffset(l) + c], b[c], 0.0, "b" + l + "[" + c + "]");
            }
        }
        // And back: DL4J's flat parameters in the trainer's order are theta exactly.
        assertArrayEquals(theta, layout.toTrainer(net.params()).toDoubleVector(), 0.0);
    }

    @Test
    void theIndexMapAgreesWithThePermutationAndKeepsTheDataType() {
        ParameterLayout layout = ParameterLayout.of(ARCHITECTURE);
        int p = ARCHITECTURE.parameterCount();
        INDArray trainer = Nd4j.linspace(DataType.FLOAT, 1, p, 1);
        INDArray dl4j = layout.toDl4j(trainer);
        assertEquals(DataType.FLOAT, dl4j.dataType());
        for (int j = 0; j < p; j++) {
            assertEquals(trainer.getDouble(j), dl4j.getDouble(layout.dl4jIndex(j)), 0.0, "index " + j);
        }
        assertArrayEquals(trainer.toDoubleVector(), layout.toTrainer(dl4j).toDoubleVector(), 0.0);
    }

    @Test
    void aDenseLayerWithoutBiasesIsRefusedWithOneLine() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).hasBias(false).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ParameterLayout.of(net));
        assertEquals("layer 0 is a DenseLayer: only dense layers with biases followed by one output layer with biases "
                + "are supported", e.getMessage());
    }

    @Test
    void aVectorOfTheWrongLengthIsRefused() {
        ParameterLayout layout = ParameterLayout.of(ARCHITECTURE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layout.toTrainer(Nd4j.zeros(DataType.DOUBLE, 3)));
        assertEquals("need p = " + ARCHITECTURE.parameterCount() + " values, got 3", e.getMessage());
    }
}
