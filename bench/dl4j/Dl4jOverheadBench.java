import io.sgdscope.client.DataDescription;
import io.sgdscope.client.KafkaClientSettings;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.dl4j.Dl4jRuns;
import io.sgdscope.dl4j.ProbeSet;
import io.sgdscope.dl4j.SgdscopeTrainingListener;
import io.sgdscope.schemas.RunFinished;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * One timed DL4J training run of the overhead benchmark (bench/dl4j/README.md): an MNIST-MLP3-sized net (784-128-128-
 * 128-10, ReLU, softmax cross-entropy, p = 134,794) on synthetic MNIST-shaped data held in memory (pixels uniform in
 * [0, 1], labels uniform), SGD lr 0.01, one minibatch per fit(). Prints {@code RESULT mode seconds-per-iteration}.
 *
 * <p>Usage: Dl4jOverheadBench MODE ITERATIONS BATCH DTYPE [BOOTSTRAP]; MODE is {@code plain} (no listener),
 * {@code listener} (the sgdscope listener publishing every iteration to Kafka at BOOTSTRAP, loss = the minibatch's, no
 * probe set) or {@code listener-probe=N} (the same with f(theta_t) on a probe set of N samples every iteration).
 * The first 50 iterations are a warm-up, not timed. The listener modes also print {@code RESULT mode-callbacks s}: the
 * wall time per iteration spent inside the listener's callbacks (its own work, whatever the rest of the machine does).
 */
public final class Dl4jOverheadBench {

    private static final int WARMUP = 50;
    private static final int SAMPLES = 10_000;

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int iterations = Integer.parseInt(args[1]);
        int batch = Integer.parseInt(args[2]);
        DataType type = args[3].equals("float64") ? DataType.DOUBLE : DataType.FLOAT;
        SplittableRandom random = new SplittableRandom(42);
        INDArray images = Nd4j.rand(type, SAMPLES, 784);
        int[] labels = random.ints(SAMPLES, 0, 10).toArray();
        MultiLayerNetwork network = network(type);
        DataSet[] batches = new DataSet[64];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = batch(images, labels, random.ints(batch, 0, SAMPLES).toArray(), type);
        }
        SgdscopeClient client = null;
        RunPublisher run = null;
        TimedListener timed = null;
        SgdscopeTrainingListener listener = null;
        if (!mode.equals("plain")) {
            client = SgdscopeClient.connect(KafkaClientSettings.of(args[4]));
            ProbeSet probe = mode.startsWith("listener-probe=")
                    ? ProbeSet.of(batch(images, labels, range(Integer.parseInt(mode.substring(15))), type), "probe subset")
                    : ProbeSet.currentMinibatch();
            run = client.startRun(Dl4jRuns.builder("bench-dl4j-" + System.nanoTime(), 0, network, probe)
                    .data(DataDescription.of("synthetic-mnist", SAMPLES, 784, 10)).batchSize(batch)
                    .plannedIterations(WARMUP + iterations).build());
            listener = SgdscopeTrainingListener.attach(network, run, probe);
            timed = new TimedListener(listener);
            network.setListeners(timed);                                 // the same listener, its calls timed
        }
        for (int t = 0; t < WARMUP; t++) {
            network.fit(batches[t % batches.length]);
        }
        if (timed != null) {
            timed.nanos = 0;
        }
        long start = System.nanoTime();
        for (int t = 0; t < iterations; t++) {
            network.fit(batches[t % batches.length]);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (listener != null) {
            RunFinished finished = listener.finish();
            client.close();
            System.out.println("DROPPED " + finished.getDroppedRecords());
            System.out.printf(java.util.Locale.ROOT, "RESULT %s-callbacks %.9f%n", mode, timed.nanos / 1e9 / iterations);
        }
        System.out.printf(java.util.Locale.ROOT, "RESULT %s %.9f%n", mode, seconds / iterations);
    }

    /** Hands every call on to the listener and sums the wall time spent in its two callbacks. */
    private static final class TimedListener extends org.deeplearning4j.optimize.api.BaseTrainingListener {
        private final SgdscopeTrainingListener listener;
        long nanos;

        TimedListener(SgdscopeTrainingListener listener) {
            this.listener = listener;
        }

        @Override
        public void onGradientCalculation(org.deeplearning4j.nn.api.Model model) {
            long start = System.nanoTime();
            listener.onGradientCalculation(model);
            nanos += System.nanoTime() - start;
        }

        @Override
        public void iterationDone(org.deeplearning4j.nn.api.Model model, int iteration, int epoch) {
            long start = System.nanoTime();
            listener.iterationDone(model, iteration, epoch);
            nanos += System.nanoTime() - start;
        }
    }

    private static MultiLayerNetwork network(DataType type) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(1).dataType(type)
                .updater(new Sgd(0.01)).weightInit(WeightInit.RELU).list();
        int in = 784;
        for (int l = 0; l < 3; l++) {
            list.layer(new DenseLayer.Builder().nIn(in).nOut(128).activation(Activation.RELU).build());
            in = 128;
        }
        list.layer(new OutputLayer.Builder(new LossMCXENT(0.0, null)).nIn(128).nOut(10).activation(Activation.SOFTMAX).build());
        MultiLayerNetwork network = new MultiLayerNetwork(list.build());
        network.init();
        return network;
    }

    private static DataSet batch(INDArray images, int[] labels, int[] indices, DataType type) {
        INDArray features = Nd4j.create(type, indices.length, 784);
        INDArray oneHot = Nd4j.zeros(type, indices.length, 10);
        for (int i = 0; i < indices.length; i++) {
            features.putRow(i, images.getRow(indices[i]));
            oneHot.putScalar(i, labels[indices[i]], 1.0);
        }
        return new DataSet(features, oneHot);
    }

    private static int[] range(int n) {
        int[] indices = new int[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        return indices;
    }
}
