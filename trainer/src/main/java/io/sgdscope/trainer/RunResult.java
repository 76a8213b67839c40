package io.sgdscope.trainer;

import io.sgdscope.schemas.RunStatus;

/**
 * How one run ended (the content of its RunFinished, for the caller).
 *
 * @param runId           experimentId + "-r" + 5-digit index
 * @param runIndex        0-based index within the experiment
 * @param seed            the run's seed
 * @param status          COMPLETED, DIVERGED, CANCELLED or FAILED
 * @param iterations      iteration records handed to the sink, over every process that trained the run
 * @param finalLoss       f at the parameters the run ended with; null if not computed (FAILED)
 * @param droppedRecords  iteration records the sink dropped
 * @param message         why it did not complete; null when COMPLETED
 * @param durationSeconds wall time of the run, over every process that trained it
 * @param resumedFrom     the iteration the run continued from (a checkpoint's), 0 when it started afresh
 * @param suspended       stopped by a cancel with its state saved to be resumed: no RunFinished was published
 */
public record RunResult(String runId, int runIndex, long seed, RunStatus status, int iterations, Double finalLoss,
                        long droppedRecords, String message, double durationSeconds, int resumedFrom, boolean suspended) {}
