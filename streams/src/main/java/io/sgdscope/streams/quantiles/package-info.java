/**
 * The quantiles app's topology: per experiment, metric and iteration the distribution across runs (KLL
 * sketches with exact count, mean, variance, min and max) written as QuantileSummary, the experiment's
 * frontier and runs by state, rolling quantiles of watched runs, and the gauges of the band at the
 * frontier. Depends on {@code io.sgdscope.schemas} with its serde, {@code streams.runs}, {@code
 * streams.internals}, {@code streams.metrics}, Kafka Streams, DataSketches, Avro (schema field lookup)
 * and Micrometer, and on {@code streams.deviation.Theorem1} for the super-martingale indicator it
 * tracks across runs.
 */
package io.sgdscope.streams.quantiles;
