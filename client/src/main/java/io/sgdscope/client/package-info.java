/**
 * The API a JVM training loop publishes its SGD telemetry with, in sgdscope's schemas: {@link
 * io.sgdscope.client.SgdscopeClient} starts experiments and their runs, a {@link io.sgdscope.client.RunPublisher}
 * publishes one run's iterations (the scalars the caller gives, plus ||g_t||, cos(g_t, g_{t-1}) and
 * ||theta_t - theta_0|| computed from the parameter and gradient arrays it is handed) and finishes it, a {@link
 * io.sgdscope.client.RunGroupPublisher} does the same for runs that advance together, in frames of at most 1,000
 * runs. Below them: the {@link io.sgdscope.client.TelemetrySink} interface and the Kafka publisher (one idempotent
 * producer per process, a bounded buffer, dropped records counted, a RunFinished only after its run's records are
 * acknowledged), which the built-in trainer publishes through too, and an in-memory sink.
 *
 * <p>Depends on {@code io.sgdscope.schemas} with its serde, Kafka clients, Avro and SLF4J; on ND4J's API only in
 * {@code Nd4jVectors} and {@link io.sgdscope.client.Nd4jGradientTracker} (an optional dependency: callers that hand
 * over {@code double[]} or {@code float[]} never load ND4J). Never on the trainer, the streams apps or Micrometer.
 */
package io.sgdscope.client;
