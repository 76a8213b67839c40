package io.sgdscope.trainer;

import io.sgdscope.schemas.RunStatus;

/**
 * How one run ended (the content of its RunFinished, for the caller).
 *
 * @param runId           experimentId + "-r" + 5-digit index
 * @param runIndex        0-based index within the experiment
 * @param seed            the run's seed
 * @param status          COMPLETED, DIVERGED, CANCELLED or FAILED
 * @param iterations      iteration records handed to the sink
 * @param finalLoss       f at the parameters the run ended with; null if not computed (FAILED)
 * @param droppedRecords  iteration records the sink dropped
 * @param message         why it did not complete; null when COMPLETED
 * @param durationSeconds wall time of the run
 */
public record RunResult(String runId, int runIndex, long seed, RunStatus status, int iterations, Double finalLoss,
                        long droppedRecords, String message, double durationSeconds) {}
