import io.sgdscope.client.DataDescription;
import io.sgdscope.client.KafkaClientSettings;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.dl4j.CurvatureCadence;
import io.sgdscope.dl4j.Dl4jRuns;
import io.sgdscope.dl4j.ProbeSet;
import io.sgdscope.dl4j.SgdscopeTrainingListener;
import io.sgdscope.schemas.Ids;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.Topics;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.data.Dataset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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
 * The paper's Gauss-10 experiment (Table 2: n = 100, d = 50, k = 10, layers [50, 10, 30, 10], ReLU, softmax
 * cross-entropy, batch 5 drawn with replacement, SGD with lr 0.1) trained by DeepLearning4J in float64, each run watched
 * by sgdscope's listener and published to Kafka. The data is the built-in trainer's (its default Gauss-10 set,
 * standardised), weights He-normal (DL4J's WeightInit.RELU), biases 0, each run seeded by its index.
 * The listener also runs the curvature probes on the training set: the moments of Eq. 4-7 and L every 10 iterations,
 * a SpectrumSnapshot (top 15 of H_f, M_t, H_p) every 50, and with SNAPSHOT_DIR snapshot folders at t = 0 and
 * ITERATIONS / 2 (docs/snapshots.md).
 * Usage: Dl4jGauss10 BOOTSTRAP EXPERIMENT RUNS ITERATIONS [SNAPSHOT_DIR] (run.sh passes them; KAFKA_CONFIG names a
 * client properties file for a secured cluster).
 */
public final class Dl4jGauss10 {

    private Dl4jGauss10() {}

    public static void main(String[] args) throws Exception {
        int runs;
        int iterations;
        try {
            if (args.length != 4 && args.length != 5) {
                throw new IllegalArgumentException(
                        "usage: run.sh BOOTSTRAP EXPERIMENT [RUNS=3] [ITERATIONS=200] [SNAPSHOT_DIR]");
            }
            Ids.require("experiment id", args[1]);
            runs = positive("RUNS", args[2]);
            iterations = positive("ITERATIONS", args[3]);
        } catch (IllegalArgumentException e) {
            System.err.println("dl4j example: " + e.getMessage());
            System.exit(2);
            return;
        }
        String kafkaConfig = System.getenv("KAFKA_CONFIG");
        KafkaClientSettings kafka;
        try {
            kafka = kafkaConfig == null || kafkaConfig.isEmpty() ? KafkaClientSettings.of(args[0])
                    : KafkaClientSettings.fromFile(args[0], Path.of(kafkaConfig));
        } catch (IllegalArgumentException e) {
            System.err.println("dl4j example: " + e.getMessage());
            System.exit(2);
            return;
        }
        String experiment = args[1];
        CurvatureCadence cadence = CurvatureCadence.none().withMomentsEvery(10).withSpectrumEvery(50);
        if (args.length == 5 && !args[4].isEmpty()) {
            cadence = cadence.withSnapshots(Path.of(args[4]), Set.of(0, iterations / 2));
        }
        Dataset train = TrainerSettings.builder().build().dataset().load().train();
        DataSet all = batch(train, range(train.samples()));
        ProbeSet probe = ProbeSet.of(all, "training set (n = " + train.samples() + ")");
        try {
            createMissingTopics(kafka);
        } catch (Exception e) {
            System.err.println("dl4j example: cannot reach Kafka at " + kafka.bootstrapServers() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("dl4j example: experiment " + experiment + ", " + runs + " runs x " + iterations
                + " iterations, Gauss-10, layers [50, 10, 30, 10], batch 5, lr 0.1, float64, to " + kafka.bootstrapServers()
                + "; moments every 10, spectra every 50"
                + (cadence.snapshotIterations().isEmpty() ? "" : ", snapshots at " + cadence.snapshotIterations()
                        + " into " + cadence.snapshotDirectory()));
        long start = System.nanoTime();
        long dropped = 0;
        try (SgdscopeClient client = SgdscopeClient.connect(kafka)) {
            for (int r = 0; r < runs; r++) {
                long seed = 1000L + r;
                MultiLayerNetwork network = network(seed);
                SplittableRandom minibatches = new SplittableRandom(seed);
                try (RunPublisher run = client.startRun(Dl4jRuns.builder(experiment, r, network, probe)
                        .seed(seed).plannedIterations(iterations).plannedRuns(runs).batchSize(5)
                        .data(new DataDescription("gauss-k", train.samples(), train.inputDimension(), train.classes(),
                                0, true, train.description().seed(), null))
                        .build())) {
                    SgdscopeTrainingListener listener = SgdscopeTrainingListener.attach(network, run, probe, cadence);
                    for (int t = 0; t < iterations; t++) {
                        network.fit(batch(train, minibatches.ints(5, 0, train.samples()).toArray()));
                    }
                    RunFinished finished = listener.finish();
                    dropped += finished.getDroppedRecords();
                    System.out.printf("run %d: %s, f(theta_T) = %.6f%n", r, finished.getStatus(), finished.getFinalLoss());
                }
            }
        }
        System.out.printf("dl4j example: %d runs in %.1f s, %d telemetry records dropped%n", runs,
                (System.nanoTime() - start) / 1e9, dropped);
    }

    /** Layers [50, 10, 30, 10], ReLU, softmax with the unclipped cross-entropy (Eq. 11), float64, SGD lr 0.1. */
    private static MultiLayerNetwork network(long seed) {
        MultiLayerNetwork network = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(DataType.DOUBLE).updater(new Sgd(0.1)).weightInit(WeightInit.RELU).biasInit(0)
                .list()
                .layer(new DenseLayer.Builder().nIn(50).nOut(10).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(10).nOut(30).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(new LossMCXENT(0.0, null)).nIn(30).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build());
        network.init();
        return network;
    }

    private static DataSet batch(Dataset data, int[] indices) {
        INDArray features = Nd4j.create(DataType.DOUBLE, indices.length, data.inputDimension());
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, indices.length, data.classes());
        for (int i = 0; i < indices.length; i++) {
            features.putRow(i, data.features().getRow(indices[i]));
            labels.putScalar(i, data.labels()[indices[i]], 1.0);
        }
        return new DataSet(features, labels);
    }

    private static int[] range(int n) {
        int[] indices = new int[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        return indices;
    }

    /** Creates the sgd.* topics the broker lacks (4 partitions, replication factor 1: a one-broker cluster). */
    private static void createMissingTopics(KafkaClientSettings kafka) throws Exception {
        Map<String, Object> config = new java.util.HashMap<>(kafka.properties());
        config.put("bootstrap.servers", kafka.bootstrapServers());
        config.put("default.api.timeout.ms", 15_000);
        config.put("request.timeout.ms", 5_000);
        try (Admin admin = Admin.create(config)) {
            Set<String> present = admin.listTopics().names().get(20, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Topics.Spec spec : Topics.all()) {
                if (!present.contains(spec.name())) {
                    missing.add(new NewTopic(spec.name(), 4, (short) 1).configs(spec.config()));
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(20, TimeUnit.SECONDS);
                System.out.println("dl4j example: created topics " + missing.stream().map(NewTopic::name).toList());
            }
        }
    }

    private static int positive(String name, String value) {
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= 1) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException(name + " must be a whole number >= 1, got " + value);
    }
}
