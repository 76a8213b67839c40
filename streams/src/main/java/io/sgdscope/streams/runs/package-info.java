/**
 * The per-run input both apps share: sgd.iterations with sgd.runs and sgd.spectra re-keyed by runId
 * into one stream, so one task sees everything about a run; counting each (run, iteration) once;
 * pairing iteration t with t + 1 for the step Delta_t; what a replay reads and writes. Depends on
 * {@code io.sgdscope.schemas} with its serde, {@code streams.internals} and Kafka Streams.
 */
package io.sgdscope.streams.runs;
