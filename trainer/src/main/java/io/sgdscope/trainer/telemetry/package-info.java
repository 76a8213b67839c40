/**
 * The trainer's meters of its telemetry: a {@link io.sgdscope.client.TelemetrySink} that counts what passes into
 * Micrometer meters, and the Prometheus counters of the Kafka publisher's lost records. The sinks and the publisher
 * themselves are the client module's ({@code io.sgdscope.client}): the trainer publishes through it. Depends on
 * {@code io.sgdscope.client}, {@code io.sgdscope.schemas} and Micrometer; never on ND4J or the rest of the trainer.
 */
package io.sgdscope.trainer.telemetry;
