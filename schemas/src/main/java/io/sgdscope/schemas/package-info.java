/**
 * The telemetry's public contract: the record classes generated from the Avro schemas in {@code
 * src/main/avro} (RunStarted, IterationMetrics, SpectrumSnapshot, RunFinished, QuantileSummary,
 * DeviationAlert and their nested types; every field documented with its unit and the paper's
 * equation) and {@link io.sgdscope.schemas.Topics}, the topic names and how each is keyed and
 * configured. Trainers and streams apps share nothing but this package (and its serde). Depends on
 * Avro only.
 */
package io.sgdscope.schemas;
