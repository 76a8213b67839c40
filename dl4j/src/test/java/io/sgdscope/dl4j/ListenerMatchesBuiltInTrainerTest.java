package io.sgdscope.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.client.DataDescription;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.trainer.Engine;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.PerRunEngine;
import io.sgdscope.trainer.StepObserver;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.Splits;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.junit.jupiter.api.Test;

/**
 * The listener's numbers for a DL4J net against the built-in trainer's records on the same net (Gauss-10, layers
 * [50, 10, 30, 10], ReLU, softmax cross-entropy, float64), data, parameters theta_0 and minibatches: loss, minibatch
 * loss, ||g_t||, cos(g_t, g_{t-1}) and the step size equal to 1e-9, every iteration.
 */
class ListenerMatchesBuiltInTrainerTest {

    private static final int ITERATIONS = 60;

    @Test
    void aMultiLayerNetworkPublishesTheBuiltInTrainersNumbers() {
        compare(false);
    }

    @Test
    void aComputationGraphPublishesTheBuiltInTrainersNumbers() {
        compare(true);
    }

    @Test
    void withoutAProbeSetTheLossIsTheMinibatchLossAndTheRunHasNoFinalLoss() {
        Splits data = SETTINGS.dataset().load();
        InMemoryTelemetrySink builtIn = new InMemoryTelemetrySink();
        PerRunEngine.experiment(SETTINGS, data, builtIn, ExperimentListener.none(), StepObserver.none()).run();
        List<IterationMetrics> expected = builtIn.iterations(Experiment.runId("builtin", 0));
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        RunFinished finished = BuiltInRunsInDl4j.train(SgdscopeClient.over(sink), SETTINGS, data.train(), "dl4j", 0, false,
                ProbeSet.currentMinibatch());
        List<IterationMetrics> actual = sink.iterations();
        for (int t = 0; t < ITERATIONS; t++) {
            assertRelative(expected.get(t).getMinibatchLoss(), actual.get(t).getLoss(), "t = " + t + " loss");
            assertRelative(expected.get(t).getSgNorm(), actual.get(t).getSgNorm(), "t = " + t + " ||g_t||");
        }
        assertNull(finished.getFinalLoss());
        assertEquals("none: loss is the minibatch loss", sink.runsStarted().get(0).getSettings().get("probe.set"));
    }

    @Test
    void aNetWithL2RegularisationIsRefusedInOneLine() {
        MultiLayerNetwork network = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).l2(1e-4).list()
                .layer(new OutputLayer.Builder(new LossMCXENT()).nIn(2).nOut(2).activation(Activation.SOFTMAX).build())
                .build());
        network.init();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ProbeSet probe = ProbeSet.of(new org.nd4j.linalg.dataset.DataSet(
                org.nd4j.linalg.factory.Nd4j.ones(DataType.DOUBLE, 1, 2), org.nd4j.linalg.factory.Nd4j.ones(DataType.DOUBLE, 1, 2)), "one");
        try (RunPublisher run = SgdscopeClient.over(sink).startRun(Dl4jRuns.builder("l2", 0, network, probe)
                .data(DataDescription.of("x", 1, 2, 2)).build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SgdscopeTrainingListener.attach(network, run, probe));
            assertEquals(1, e.getMessage().lines().count());
            assertEquals(true, e.getMessage().contains("regularisation"), e.getMessage());
        }
    }

    private static final TrainerSettings SETTINGS = TrainerSettings.builder().experimentId("builtin").runs(1)
            .iterations(ITERATIONS).workers(1).engine(Engine.PER_RUN)
            .curvature(CurvatureSettings.defaults().withMomentsEvery(0).withSpectrumEvery(0)).build();

    private static void compare(boolean asGraph) {
        Splits data = SETTINGS.dataset().load();
        Dataset train = data.train();
        InMemoryTelemetrySink builtIn = new InMemoryTelemetrySink();
        PerRunEngine.experiment(SETTINGS, data, builtIn, ExperimentListener.none(), StepObserver.none()).run();
        List<IterationMetrics> expected = builtIn.iterations(Experiment.runId("builtin", 0));
        assertEquals(ITERATIONS, expected.size());

        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        RunFinished finished = BuiltInRunsInDl4j.train(SgdscopeClient.over(sink), SETTINGS, train, "dl4j", 0, asGraph);
        List<IterationMetrics> actual = sink.iterations();
        assertEquals(ITERATIONS, actual.size());
        for (int t = 0; t < ITERATIONS; t++) {
            IterationMetrics want = expected.get(t);
            IterationMetrics got = actual.get(t);
            String at = "t = " + t;
            assertEquals(t, got.getIteration());
            assertRelative(want.getLoss(), got.getLoss(), at + " loss");
            assertRelative(want.getMinibatchLoss(), got.getMinibatchLoss(), at + " minibatch loss");
            assertRelative(want.getSgNorm(), got.getSgNorm(), at + " ||g_t||");
            assertEquals(want.getParamDistance(), got.getParamDistance(), 1e-9 * Math.max(1, want.getParamDistance()),
                    at + " ||theta_t - theta_0||");
            assertEquals(want.getStepSize(), got.getStepSize(), 0.0, at + " step size");
            assertEquals(want.getBatchSize(), got.getBatchSize(), at);
            if (t == 0) {
                assertNull(got.getSgCosPrev());
            } else {
                assertNotNull(got.getSgCosPrev(), at);
                assertEquals(want.getSgCosPrev(), got.getSgCosPrev(), 1e-9, at + " cos(g_t, g_{t-1})");
            }
        }
        RunFinished builtInFinished = builtIn.finished(Experiment.runId("builtin", 0)).orElseThrow();
        assertRelative(builtInFinished.getFinalLoss(), finished.getFinalLoss(), "f(theta_T)");
        assertEquals(ITERATIONS, finished.getIterations());
        assertEquals(List.of(50, 10, 30, 10), sink.runsStarted().get(0).getModel().getLayers());
        assertEquals(1150, sink.runsStarted().get(0).getModel().getParameterCount());
    }

    private static void assertRelative(double expected, double actual, String what) {
        assertEquals(expected, actual, 1e-9 * Math.max(1e-300, Math.abs(expected)), what);
    }
}
