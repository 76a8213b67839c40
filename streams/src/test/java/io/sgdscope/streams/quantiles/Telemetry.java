package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.IterationMetrics;

/** IterationMetrics for tests: a run's loss at an iteration, everything else plausible. */
final class Telemetry {

    private Telemetry() {}

    static IterationMetrics iteration(String experimentId, String runId, int iteration, double loss) {
        return IterationMetrics.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setIteration(iteration)
                .setTimestampMillis(1_700_000_000_000L + iteration)
                .setLoss(loss)
                .setMinibatchLoss(loss)
                .setStepSize(0.1)
                .setBatchSize(5)
                .setSgNorm(1.0)
                .build();
    }
}
