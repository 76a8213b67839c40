/**
 * Checkpoints: the full state of a run between two iterations (theta, optimizer state, sampler
 * position, counters, the curvature probe's warm starts), written atomically one file per run, and
 * read back so that a resumed run trains and publishes exactly what it would have without stopping.
 * Depends on {@code io.sgdscope.trainer.optim} and {@code io.sgdscope.trainer.curvature} (the states
 * it saves), and on {@code io.sgdscope.schemas} with its serde (a checkpoint embeds the run's
 * RunStarted); not on ND4J or Kafka.
 */
package io.sgdscope.trainer.checkpoint;
