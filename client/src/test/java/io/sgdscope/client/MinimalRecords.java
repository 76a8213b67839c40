package io.sgdscope.client;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import java.util.List;
import java.util.Map;

/**
 * Telemetry records with only their required fields, plausible values, for the tests of the sinks that carry them
 * (the client's publisher, the trainer's metered sink, the cli's loss metrics): the sinks look at their ids and
 * types, not at their numbers. In this module's test jar.
 */
public final class MinimalRecords {

    /** The experiment of the one-argument records. */
    public static final String EXPERIMENT = "e";

    private MinimalRecords() {}

    /** A RunStarted of experiment {@value #EXPERIMENT}: Gauss-10, [50, 10, 30, 10], SGD eta = 0.1, m = 5. */
    public static RunStarted runStarted(String runId) {
        return runStarted(EXPERIMENT, runId);
    }

    /** A RunStarted: Gauss-10, [50, 10, 30, 10], SGD eta = 0.1, m = 5, 3 planned iterations. */
    public static RunStarted runStarted(String experimentId, String runId) {
        return RunStarted.newBuilder()
                .setRunId(runId).setExperimentId(experimentId).setRunIndex(0).setSeed(1).setStartedAtMillis(0)
                .setPlannedIterations(3)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50)
                        .setClasses(10).setRandomLabelFraction(0).setStandardized(true).setSeed(1).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(1150).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64").setBackend("CPU").setVersions(Map.of()).setSettings(Map.of())
                .build();
    }

    /** Iteration t of a run of experiment {@value #EXPERIMENT}: loss 1, step 0.1, ||g|| = 1. */
    public static IterationMetrics iteration(String runId, int t) {
        return iteration(EXPERIMENT, runId, t);
    }

    /** Iteration t of a run: loss 1, step 0.1, ||g|| = 1, no curvature. */
    public static IterationMetrics iteration(String experimentId, String runId, int t) {
        return IterationMetrics.newBuilder()
                .setRunId(runId).setExperimentId(experimentId).setIteration(t).setTimestampMillis(0).setLoss(1.0)
                .setMinibatchLoss(1.0).setStepSize(0.1).setBatchSize(5).setSgNorm(1.0).build();
    }

    /** The COMPLETED RunFinished of a run of experiment {@value #EXPERIMENT}. */
    public static RunFinished runFinished(String runId, int iterations, long dropped) {
        return RunFinished.newBuilder()
                .setRunId(runId).setExperimentId(EXPERIMENT).setStatus(RunStatus.COMPLETED).setIterations(iterations)
                .setFinishedAtMillis(0).setDurationSeconds(0).setDroppedRecords(dropped).build();
    }
}
