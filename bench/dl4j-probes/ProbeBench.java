import io.sgdscope.dl4j.curvature.CurvatureProbe;
import io.sgdscope.dl4j.curvature.GradientModel;
import io.sgdscope.dl4j.curvature.ParameterLayout;
import io.sgdscope.dl4j.curvature.ProbeMoments;
import io.sgdscope.dl4j.curvature.ProbeSettings;
import io.sgdscope.dl4j.curvature.ProbeSpectrum;
import io.sgdscope.dl4j.curvature.SampleGradients;
import io.sgdscope.trainer.Nd4jThreads;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
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
 * The cost of the DL4J curvature probes (bench/dl4j-probes/README.md) on the MNIST-shaped net
 * [784, 128, 128, 128, 10] (p = 134,794, Table 3) as a float32 DL4J MultiLayerNetwork, on a synthetic
 * probe set of n examples, ND4J limited to 2 threads: one full-probe-set DL4J gradient, the n per-example
 * gradients, a moments call (per-example gradients, Gram identities, L by 8 Lanczos steps), a cold and a
 * warm top-k spectrum call (H_f by finite differences, M_t, H_p). The trainer's exact probes on the same
 * theta and examples (NetworkCurvature: R-operator H v, Gram from per-sample signals) are timed beside
 * them as the reference, and the top eigenvalues of both printed as a check that they did the same work.
 * Arguments: repeats R (3), probe examples n (256), k (15).
 */
public final class ProbeBench {

    static final MlpArchitecture NET = MlpArchitecture.of(784, 128, 128, 128, 10);

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int k = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Nd4jThreads.configure(2);
        SplittableRandom random = new SplittableRandom(2024);
        double[][] x = new double[n][784];
        double[][] y = new double[n][10];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 784; j++) {
                x[i][j] = random.nextDouble() < 0.8 ? 0 : random.nextDouble();   // sparse, pixel-like in [0, 1]
            }
            labels[i] = random.nextInt(10);
            y[i][labels[i]] = 1;
        }
        INDArray features = Nd4j.createFromArray(x);
        INDArray oneHot = Nd4j.createFromArray(y);
        INDArray theta = Nd4j.createFromArray(Initialization.HE_NORMAL.draw(NET, random.split()));
        MultiLayerNetwork net = network();
        ParameterLayout layout = ParameterLayout.of(net);
        net.setParams(layout.toDl4j(theta).castTo(DataType.FLOAT).reshape(1, -1));
        System.out.printf(Locale.ROOT, "net %s, p = %,d, DL4J float32 (probes on a float64 twin), probe set n = %d%n",
                NET.layers(), NET.parameterCount(), n);

        GradientModel model = GradientModel.of(net);
        model.synchronize();
        INDArray gradient = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        report("dl4j-batch-gradient", repeats, () -> model.lossAndGradient(features, oneHot, gradient));
        report("dl4j-per-example-gradients", repeats, () -> SampleGradients.of(model, features, oneHot));

        CurvatureProbe probe = new CurvatureProbe(net, ProbeSettings.defaults().withTopK(k));
        ProbeMoments[] moments = new ProbeMoments[1];
        report("dl4j-moments", repeats, () -> moments[0] = probe.moments(features, oneHot));
        System.out.println("  moments " + moments[0]);
        ProbeSpectrum cold = timeOnce("dl4j-spectrum-cold", () -> probe.spectrum(features, oneHot));
        System.out.println("  cold products " + cold.products() + ", FD error " + cold.finiteDifferenceError());
        // Move theta a little, as a training step would, and measure again from the previous vectors.
        INDArray step = Nd4j.randn(random.nextLong(), net.params().shape()).castTo(DataType.FLOAT)
                .muli(1e-3 / Math.sqrt(NET.parameterCount()));
        net.params().addi(step);
        ProbeSpectrum warm = timeOnce("dl4j-spectrum-warm", () -> probe.spectrum(features, oneHot));
        System.out.println("  warm products " + warm.products());
        System.out.println("  dl4j top H eigenvalues " + warm.hessianEigenvalues().subList(0, Math.min(3, k))
                + ", top M " + warm.secondMomentEigenvalues().subList(0, Math.min(3, k)));

        INDArray thetaNow = layout.toTrainer(net.params()).castTo(DataType.DOUBLE);
        try (NetworkCurvature exact = NetworkCurvature.classifier(NET, thetaNow, features, labels, DataType.DOUBLE)) {
            report("trainer-moments", repeats, () -> GradientMoments.of(exact, GradientMoments.DEFAULT_GRAM_LIMIT));
            SpectrumProbe reference = new SpectrumProbe(k, ProbeSettings.defaults().lanczos(), false, 1L);
            Spectra spectra = timeOnce("trainer-spectrum-cold", () -> reference.measure(exact));
            System.out.println("  trainer top H eigenvalues " + Arrays.toString(Arrays.copyOf(spectra.hessian().values(), Math.min(3, k)))
                    + ", top M " + Arrays.toString(Arrays.copyOf(spectra.secondMoment().values(), Math.min(3, k)))
                    + ", Lanczos steps H " + spectra.hessian().steps() + ", M " + spectra.secondMoment().steps()
                    + ", H_p " + spectra.predictionHessian().steps());
        }
    }

    private static MultiLayerNetwork network() {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .updater(new org.nd4j.linalg.learning.config.Sgd(0.1)).list();
        for (int l = 0; l < NET.depth() - 1; l++) {
            list.layer(new DenseLayer.Builder().nIn(NET.fanIn(l)).nOut(NET.fanOut(l)).activation(Activation.RELU).build());
        }
        list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(NET.fanIn(NET.depth() - 1))
                .nOut(NET.classes()).activation(Activation.SOFTMAX).build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }

    /** One warm-up, then the median of R timings. */
    private static void report(String what, int repeats, Runnable work) {
        work.run();
        double[] seconds = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            work.run();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        System.out.printf(Locale.ROOT, "RESULT %s %.4f s (median of %d)%n", what, seconds[repeats / 2], repeats);
    }

    private static <T> T timeOnce(String what, java.util.function.Supplier<T> work) {
        long start = System.nanoTime();
        T result = work.get();
        System.out.printf(Locale.ROOT, "RESULT %s %.4f s (once)%n", what, (System.nanoTime() - start) / 1e9);
        return result;
    }
}
