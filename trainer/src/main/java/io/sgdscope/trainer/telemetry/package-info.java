/**
 * Where a trainer's records go: the {@link io.sgdscope.trainer.telemetry.TelemetrySink} interface, the
 * Kafka publisher (one idempotent producer per process, a bounded buffer, dropped records counted, a
 * RunFinished only after its run's records are acknowledged), an in-memory sink, and a sink that
 * counts what passes into Micrometer meters. Depends on {@code io.sgdscope.schemas} with its serde,
 * Kafka clients, Micrometer and SLF4J; never on ND4J or the rest of the trainer.
 */
package io.sgdscope.trainer.telemetry;
