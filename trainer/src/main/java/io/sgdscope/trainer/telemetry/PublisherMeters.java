package io.sgdscope.trainer.telemetry;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.client.KafkaTelemetryPublisher.RecordType;
import io.sgdscope.client.KafkaTelemetryPublisher;

/**
 * Shows a {@link KafkaTelemetryPublisher}'s lost records as Prometheus counters (the trainer's side of the "Pipeline
 * health" dashboard and the alert SgdscopeTelemetryLost). The client module has no Micrometer; the trainer binds
 * its counts here.
 */
public final class PublisherMeters {

    private PublisherMeters() {}

    /**
     * Registers {@code sgdscope_trainer_records_dropped_total{type}} (not taken by the producer: buffer full, or a
     * RunStarted / RunFinished refused for good) and {@code sgdscope_trainer_records_failed_total{type}} (taken, then
     * not delivered), type one of run_started, run_finished, iteration, spectrum: 8 series, each from the start at 0
     * so that increase() sees the first loss. {@code type="iteration"} counts run-iterations: an IterationMetrics
     * counts 1, a frame as many as it has runs.
     */
    public static void bind(KafkaTelemetryPublisher publisher, MeterRegistry registry) {
        for (RecordType type : RecordType.values()) {
            FunctionCounter.builder("sgdscope.trainer.records.dropped", publisher, p -> p.droppedRecords(type))
                    .tag("type", type.label())
                    .description("Telemetry records the Kafka producer did not take (buffer full, or refused)")
                    .register(registry);
            FunctionCounter.builder("sgdscope.trainer.records.failed", publisher, p -> p.failedRecords(type))
                    .tag("type", type.label())
                    .description("Telemetry records the Kafka producer took but could not deliver")
                    .register(registry);
        }
    }
}
