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

/** The one place where the client builds the Avro records of a run from what the caller describes and hands over. */
final class ClientRecords {

    private ClientRecords() {}

    /** The run's RunStarted; {@code frameKey} null when its iterations go out as IterationMetrics keyed by its id. */
    static RunStarted started(RunDescription run, String frameKey) {
        Map<String, String> versions = new LinkedHashMap<>(run.versions());
        versions.putIfAbsent("java", System.getProperty("java.version"));
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
                .setDevice(null)
                .setHost(host())
                .setVersions(versions)
                .setSettings(settings)
                .setFrameKey(frameKey)
                .setPlannedRuns(run.plannedRuns())
                .setShardIndex(null)
                .setShardCount(null)
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
        return record;
    }

    /** The run's RunFinished. */
    static RunFinished finished(String runId, String experimentId, RunStatus status, int iterations, double seconds,
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
