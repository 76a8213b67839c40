/**
 * The two Kafka Streams applications as runnable units: the quantiles app, the deviation app, both in
 * one process ({@link io.sgdscope.streams.StreamsApps}) and a replay of both over kept topics, with
 * their settings, the checks made before start, the handler that dead-letters unreadable records,
 * health and metrics serving. Wires the topologies of {@code streams.quantiles} and {@code
 * streams.deviation} together; depends on those, on {@code streams.runs} and {@code streams.metrics},
 * on {@code io.sgdscope.schemas} with its serde, Kafka Streams and Micrometer. Never on the trainer.
 */
package io.sgdscope.streams;
