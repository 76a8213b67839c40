package io.sgdscope.dl4j;

import io.sgdscope.client.DataDescription;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.MinibatchSampler;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Run {@code runIndex} of a built-in experiment's settings, trained by DL4J with the listener: the same theta_0 and
 * minibatch stream as the built-in trainer's run (drawn as its TrainingRun draws them), published under another
 * experiment id.
 */
final class BuiltInRunsInDl4j {

    private BuiltInRunsInDl4j() {}

    static RunFinished train(SgdscopeClient client, TrainerSettings settings, Dataset train, String experimentId,
                             int runIndex, boolean asGraph) {
        return train(client, settings, train, experimentId, runIndex, asGraph,
                ProbeSet.of(Gauss10Nets.all(train), "training set (n = " + train.samples() + ")"));
    }

    /** As above with another probe set. */
    static RunFinished train(SgdscopeClient client, TrainerSettings settings, Dataset train, String experimentId,
                             int runIndex, boolean asGraph, ProbeSet probe) {
        long seed = Experiment.runSeed(settings.baseSeed(), runIndex);
        SplittableRandom runRandom = new SplittableRandom(seed);
        double[] theta0 = settings.initialization().draw(new MlpArchitecture(settings.layers()), runRandom.split());
        MinibatchSampler sampler = new MinibatchSampler(train.samples(), settings.batchSize(), runRandom.split());
        Model network = asGraph ? Gauss10Nets.graph(settings.layers(), settings.learningRate(), theta0)
                : Gauss10Nets.multiLayer(settings.layers(), settings.learningRate(), theta0);
        try (RunPublisher run = client.startRun(Dl4jRuns.builder(experimentId, runIndex, network, probe)
                .seed(seed)
                .data(new DataDescription("gauss-k", train.samples(), train.inputDimension(), train.classes(),
                        train.description().randomLabelFraction(), train.description().standardized(),
                        train.description().seed(), null))
                .plannedIterations(settings.iterations()).plannedRuns(settings.runs())
                .batchSize(settings.batchSize()).build())) {
            SgdscopeTrainingListener listener = network instanceof MultiLayerNetwork mln
                    ? SgdscopeTrainingListener.attach(mln, run, probe)
                    : SgdscopeTrainingListener.attach((ComputationGraph) network, run, probe);
            for (int t = 0; t < settings.iterations(); t++) {
                org.nd4j.linalg.dataset.DataSet batch = Gauss10Nets.batch(train, sampler.next());
                if (network instanceof MultiLayerNetwork mln) {
                    mln.fit(batch);
                } else {
                    ((ComputationGraph) network).fit(batch);
                }
            }
            return listener.finish();
        }
    }
}
