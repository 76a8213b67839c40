/**
 * Iteration telemetry as columns: a {@link io.sgdscope.schemas.frames.Frame} is one iteration of a block
 * of runs of one experiment (the Avro record {@code IterationFrame}), with one column per scalar of
 * {@code IterationMetrics} ({@link io.sgdscope.schemas.frames.FrameColumn}). Every reader of sgd.iterations
 * sees frames: a per-run IterationMetrics record is read as a frame of one run, and a frame gives back each
 * run's IterationMetrics ({@link io.sgdscope.schemas.frames.Frame#row(int)}) where a per-run view is
 * needed. Depends on {@code io.sgdscope.schemas} only.
 */
package io.sgdscope.schemas.frames;
