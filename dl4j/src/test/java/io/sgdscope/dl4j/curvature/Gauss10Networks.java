package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Mlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.Sgd;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Test inputs: the paper's Gauss-10 net ([50, 10, 30, 10], ReLU, softmax cross-entropy; Table 2) trained
 * a few SGD steps by the trainer's own Mlp in float64, and the same net as a DL4J MultiLayerNetwork holding
 * the same parameters (through {@link ParameterLayout}).
 */
final class Gauss10Networks {

    static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);

    private Gauss10Networks() {}

    /**
     * The trainer's Gauss-10 net after {@code steps} SGD steps (batch 5, eta 0.1, he-normal start) and its DL4J twin.
     *
     * @param data     the Gauss-10 training set (n = 100)
     * @param oneHot   its labels one-hot, [n, 10] float64
     * @param theta0   the initial parameters, trainer order
     * @param theta    the parameters after the steps, trainer order
     * @param net      a float64 DL4J network holding theta
     */
    record Fixture(Dataset data, INDArray oneHot, double[] theta0, double[] theta, MultiLayerNetwork net) {

        /** The trainer's exact curvature code at theta on the whole training set. */
        NetworkCurvature trainerCurvature() {
            return NetworkCurvature.classifier(GAUSS_10, Nd4j.createFromArray(theta), data.features(), data.labels(),
                    DataType.DOUBLE);
        }

        /** The features as float64. */
        INDArray features() {
            return data.features().castTo(DataType.DOUBLE);
        }
    }

    static Fixture trained(int steps, long seed) {
        Dataset data = GaussK.generate(GaussKSettings.GAUSS_10);
        double[] theta0;
        double[] theta;
        try (Mlp model = new Mlp(GAUSS_10, Precision.FLOAT64)) {
            SplittableRandom random = new SplittableRandom(seed);
            model.initialize(Initialization.HE_NORMAL, random.split());
            theta0 = model.parametersAsDoubles();
            MinibatchSampler sampler = new MinibatchSampler(data.samples(), 5, random.split());
            Sgd sgd = new Sgd(0.1);
            for (int t = 0; t < steps; t++) {
                model.lossAndGradient(data, sampler.next());
                sgd.step(model.parameters(), model.gradient());
            }
            theta = model.parametersAsDoubles();
        }
        MultiLayerNetwork net = denseNet(GAUSS_10, DataType.DOUBLE);
        net.setParams(ParameterLayout.of(GAUSS_10).toDl4j(Nd4j.createFromArray(theta)).reshape(1, -1));
        return new Fixture(data, oneHot(data.labels(), GAUSS_10.classes()), theta0, theta, net);
    }

    /** A DL4J network of ReLU dense layers and a softmax cross-entropy output layer of these widths. */
    static MultiLayerNetwork denseNet(MlpArchitecture architecture, DataType type) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .dataType(type)
                .seed(7)
                .updater(new org.nd4j.linalg.learning.config.Sgd(0.1))
                .list();
        int depth = architecture.depth();
        for (int l = 0; l < depth - 1; l++) {
            list.layer(new DenseLayer.Builder().nIn(architecture.fanIn(l)).nOut(architecture.fanOut(l))
                    .activation(Activation.RELU).build());
        }
        list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(architecture.fanIn(depth - 1))
                .nOut(architecture.classes()).activation(Activation.SOFTMAX).build());
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static INDArray oneHot(int[] labels, int classes) {
        double[][] rows = new double[labels.length][classes];
        for (int i = 0; i < labels.length; i++) {
            rows[i][labels[i]] = 1.0;
        }
        return Nd4j.createFromArray(rows);
    }
}
