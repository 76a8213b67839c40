package io.sgdscope.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgdscope.client.DataDescription;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.schemas.IterationMetrics;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** A float32 net: ||g_t|| and cos(g_t, g_{t-1}) against sums in float64 over each raw gradient (divided by m) taken aside. */
class Float32ListenerTest {

    @Test
    void float32GradientsGiveTheirFloat64Statistics() {
        MultiLayerNetwork network = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3)
                .dataType(DataType.FLOAT).updater(new Sgd(0.05)).list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(new LossMCXENT(0.0, null)).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        network.init();
        List<double[]> gradients = new ArrayList<>();
        network.addListeners(new BaseTrainingListener() {
            @Override
            public void onGradientCalculation(Model model) {
                float[] raw = model.gradient().gradient().dup().toFloatVector();
                double[] g = new double[raw.length];
                for (int i = 0; i < raw.length; i++) {
                    g[i] = (double) raw[i] / model.batchSize();
                }
                gradients.add(g);
            }
        });
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ProbeSet probe = ProbeSet.currentMinibatch();
        try (RunPublisher run = SgdscopeClient.over(sink).startRun(Dl4jRuns.builder("f32", 0, network, probe)
                .data(DataDescription.of("random", 4, 6, 3)).batchSize(4).build())) {
            SgdscopeTrainingListener listener = SgdscopeTrainingListener.attach(network, run, probe);
            DataSet batch = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 6), Nd4j.eye(3).castTo(DataType.FLOAT)
                    .repeat(0, 2).getRows(0, 1, 2, 0));
            for (int t = 0; t < 5; t++) {
                network.fit(batch);
            }
            listener.finish();
        }
        List<IterationMetrics> records = sink.iterations();
        assertEquals(5, records.size());
        for (int t = 1; t < 5; t++) {
            double[] g = gradients.get(t);
            double[] h = gradients.get(t - 1);
            double norm = 0;
            double previous = 0;
            double dot = 0;
            for (int i = 0; i < g.length; i++) {
                norm += g[i] * g[i];
                previous += h[i] * h[i];
                dot += g[i] * h[i];
            }
            assertEquals(Math.sqrt(norm), records.get(t).getSgNorm(), 1e-12 * Math.sqrt(norm), "t = " + t);
            assertEquals(dot / Math.sqrt(norm * previous), records.get(t).getSgCosPrev(), 1e-12, "t = " + t);
            assertEquals("float32", sink.runsStarted().get(0).getPrecision());
        }
    }
}
