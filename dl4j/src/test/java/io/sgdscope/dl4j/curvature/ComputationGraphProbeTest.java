package io.sgdscope.dl4j.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.model.MlpArchitecture;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The same Gauss-10 net as a DL4J ComputationGraph (a chain of the same layers): its flat parameters are
 * in the MultiLayerNetwork's order (checked against the graph's own named weights), and the probes on it
 * give the trainer's gradient and exact moments.
 */
class ComputationGraphProbeTest {

    @Test
    void aChainGraphHoldsItsParametersInTheOrderOfTheMultiLayerNetworkAndGivesTheTrainersGradientAndMoments() {
        Gauss10Networks.Fixture f = Gauss10Networks.trained(25, 41L);
        ComputationGraph graph = chain(Gauss10Networks.GAUSS_10);
        ParameterLayout layout = ParameterLayout.of(graph);
        assertEquals(Gauss10Networks.GAUSS_10, layout.architecture());
        graph.setParams(f.net().params().dup().reshape(graph.params().shape()));
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(f.net().getParam(l + "_W").toDoubleMatrix(), graph.getParam("l" + l + "_W").toDoubleMatrix(),
                    "W" + l);
            assertArrayEquals(f.net().getParam(l + "_b").toDoubleVector(), graph.getParam("l" + l + "_b").toDoubleVector(),
                    "b" + l);
        }
        GradientModel model = GradientModel.of(graph);
        model.synchronize();
        INDArray gradient = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        model.lossAndGradient(f.features(), f.oneHot(), gradient);
        ProbeMoments moments = new CurvatureProbe(graph, ProbeSettings.defaults()).moments(f.features(), f.oneHot());
        try (NetworkCurvature reference = f.trainerCurvature()) {
            double[] actual = layout.toTrainer(gradient).toDoubleVector();
            double error = GradientModelTest.relativeError(actual, reference.gradient().toDoubleVector());
            assertTrue(error < 1e-9, "relative error " + error);
            GradientMoments expected = GradientMoments.of(reference, GradientMoments.DEFAULT_GRAM_LIMIT);
            assertEquals(expected.traceM(), moments.traceM(), 1e-9 * expected.traceM());
            assertEquals(expected.sigmaSpectral(), moments.sigmaSpectral(), 1e-9 * expected.sigmaSpectral());
            assertEquals(expected.sigmaHalfMuNorm(), moments.sigmaHalfMuNorm(), 1e-9 * expected.sigmaHalfMuNorm());
        }
    }

    @Test
    void aGraphThatIsNotAChainIsRefusedWithOneLine() {
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in")
                .addLayer("a", new DenseLayer.Builder().nIn(3).nOut(2).activation(Activation.RELU).build(), "in")
                .addLayer("b", new DenseLayer.Builder().nIn(3).nOut(2).activation(Activation.RELU).build(), "in")
                .addVertex("merge", new MergeVertex(), "a", "b")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "merge")
                .setOutputs("out").build());
        graph.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ParameterLayout.of(graph));
        assertEquals("only a ComputationGraph that is a chain of layers (one input, one output, no other vertices) is "
                + "supported", e.getMessage());
    }

    /** The layers of {@link Gauss10Networks#denseNet} as a graph "in" -> l0 -> l1 -> ... */
    private static ComputationGraph chain(MlpArchitecture architecture) {
        ComputationGraphConfiguration.GraphBuilder builder = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new org.nd4j.linalg.learning.config.Sgd(0.1)).graphBuilder().addInputs("in");
        String previous = "in";
        int depth = architecture.depth();
        for (int l = 0; l < depth - 1; l++) {
            builder.addLayer("l" + l, new DenseLayer.Builder().nIn(architecture.fanIn(l)).nOut(architecture.fanOut(l))
                    .activation(Activation.RELU).build(), previous);
            previous = "l" + l;
        }
        builder.addLayer("l" + (depth - 1), new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(architecture.fanIn(depth - 1)).nOut(architecture.classes()).activation(Activation.SOFTMAX).build(),
                previous);
        ComputationGraph graph = new ComputationGraph(builder.setOutputs("l" + (depth - 1)).build());
        graph.init();
        return graph;
    }
}
