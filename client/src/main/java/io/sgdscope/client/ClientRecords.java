package io.sgdscope.client;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place where the client builds the Avro records of a run from what the caller describes and hands over.
 * Its RunStarted is public: the built-in trainer builds its runs' RunStarted here too, from a {@link RunDescription}
 * and a {@link RunPlacement}.
 */
public final class ClientRecords {

    private ClientRecords() {}

    /**
     * The RunStarted of a run published through this client ({@link RunPublisher}, {@link RunGroupPublisher}): on
     * this host, no device named, not sharded, the java version added to the run's versions when it names none.
     *
     * @param frameKey null when its iterations go out as IterationMetrics keyed by its id
     */
    static RunStarted started(RunDescription run, String frameKey) {
        Map<String, String> versions = new LinkedHashMap<>(run.versions());
        versions.putIfAbsent("java", System.getProperty("java.version"));
        return started(run, versions, frameKey, new RunPlacement(null, host(), null, null));
    }

    /**
     * The RunStarted of a run that an engine of its own describes (the built-in trainer's {@code RunRecords}): the
     * one place where a RunStarted is built field by field, so that every publisher states a run's provenance alike.
     * The run's versions and settings are taken as they are, in their order.
     *
     * @param frameKey  the Kafka key of the frames that carry the run's iterations, or null when the run publishes an
     *                  IterationMetrics per iteration keyed by its own id
     * @param placement where the run is computed and its shard of the experiment
     */
    public static RunStarted started(RunDescription run, String frameKey, RunPlacement placement) {
        return started(run, run.versions(), frameKey, placement);
    }

    private static RunStarted started(RunDescription run, Map<String, String> versions, String frameKey,
                                      RunPlacement placement) {
        Map<String, String> settings = new LinkedHashMap<>(run.settings());
        if (run.model().description() != null) {
            settings.put("model.description", run.model().description());
        }
        DataDescription data = run.data();
        ModelDescription model = run.model();
        return RunStarted.newBuilder()
                .setRunId(run.runId())
                .setExperimentId(run.experimentId())
                .setRunIndex(run.runIndex())
                .setSeed(run.seed())
                .setStartedAtMillis(System.currentTimeMillis())
                .setPlannedIterations(run.plannedIterations())
                .setDataset(DatasetSpec.newBuilder()
                        .setName(data.name())
                        .setSamples(data.samples())
                        .setInputDimension(data.inputDimension())
                        .setClasses(data.classes())
                        .setRandomLabelFraction(data.randomLabelFraction())
                        .setStandardized(data.standardized())
                        .setSeed(data.seed())
                        .setSource(data.source())
                        .build())
                .setModel(ModelSpec.newBuilder()
                        .setLayers(model.layers())
                        .setActivation(model.activation())
                        .setLoss(model.loss())
                        .setParameterCount(model.parameterCount())
                        .setInitialization(model.initialization())
                        .build())
                .setOptimizer(OptimizerSpec.newBuilder()
                        .setName(run.optimizer())
                        .setLearningRate(run.learningRate())
                        .setBatchSize(run.batchSize())
                        .setSampling(run.sampling())
                        .build())
                .setPrecision(run.precision())
                .setBackend(run.backend())
                .setDevice(placement.device())
                .setHost(placement.host())
                .setVersions(versions)
                .setSettings(settings)
                .setFrameKey(frameKey)
                .setPlannedRuns(run.plannedRuns())
                .setShardIndex(placement.shardIndex())   // the streams' frontier waits for each shard
                .setShardCount(placement.shardCount())
                .build();
    }

    /** The IterationMetrics of iteration t, all at theta_t before its update (Eq. 8); no curvature fields. */
    static IterationMetrics iteration(String runId, String experimentId, int t, Step step, GradientStatistics gradient) {
        IterationMetrics record = new IterationMetrics();
        record.setRunId(runId);
        record.setExperimentId(experimentId);
        record.setIteration(t);
        record.setTimestampMillis(System.currentTimeMillis());
        record.setLoss(step.loss());                                // f(theta_t), Eq. 3
        record.setMinibatchLoss(step.minibatchLoss());
        record.setStepSize(step.stepSize());                        // eta_t, Eq. 8
        record.setBatchSize(step.batchSize());
        record.setSgNorm(gradient.sgNorm());                        // ||g_t||, Fig. 8
        record.setSgCosPrev(gradient.sgCosPrev());                  // cos(g_t, g_{t-1}), Fig. 8
        record.setTrainAccuracy(step.trainAccuracy());
        record.setTestLoss(step.testLoss());
        record.setTestAccuracy(step.testAccuracy());
        record.setParamDistance(gradient.distanceFromStart());      // ||theta_t - theta_0||, Eq. 52
        return record;
    }

    /** The run's RunFinished (the one builder of it: the trainer adds its Corollary 4 terms to this record). */
    public static RunFinished finished(String runId, String experimentId, RunStatus status, int iterations, double seconds,
                                Double finalLoss, long dropped, String message, String frameKey) {
        return RunFinished.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setStatus(status)
                .setIterations(iterations)
                .setFinishedAtMillis(System.currentTimeMillis())
                .setDurationSeconds(seconds)
                .setFinalLoss(finalLoss)
                .setDroppedRecords(dropped)
                .setMessage(message)
                .setFrameKey(frameKey)
                .build();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
