/**
 * Experiments: the settings of an experiment ({@link io.sgdscope.trainer.TrainerSettings}), the {@link
 * io.sgdscope.trainer.Experiment} that trains its runs on worker threads with the ensemble engine (batched
 * blocks of runs, {@link io.sgdscope.trainer.EnsembleBlock}; the retired per-run engine, {@code TrainingRun}, is
 * in the tests as its reference), the curvature telemetry of the runs, resuming from checkpoints,
 * and the provenance RunStarted records. {@code RunRecords} builds the Avro records both engines
 * publish. This is the package that wires the others of the trainer together: it depends on every
 * {@code io.sgdscope.trainer.*} package, on {@code io.sgdscope.schemas} and on ND4J; on Kafka only
 * through the client module, {@code io.sgdscope.client} (and Kafka's client version, read for the provenance). Never on
 * the streams apps.
 */
package io.sgdscope.trainer;
