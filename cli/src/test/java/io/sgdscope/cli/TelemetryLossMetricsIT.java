package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.client.MinimalRecords;
import io.sgdscope.client.TelemetryException;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.trainer.telemetry.PublisherMeters;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Lost telemetry shows on the trainer's /metrics, as {@code train} serves it: the publisher's counters on a Prometheus
 * registry behind the {@link MetricsServer}, against a real broker that refuses the records.
 */
class TelemetryLossMetricsIT {

    /** sgd.iterations takes no record batch at all (max.message.bytes 1): every iteration fails to be delivered. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(
            new NewTopic(Topics.RUNS, 1, (short) 1),
            new NewTopic(Topics.ITERATIONS, 1, (short) 1).configs(Map.of("max.message.bytes", "1")),
            new NewTopic(Topics.SPECTRA, 1, (short) 1));

    @Test
    void droppedAndFailedRecordsAreCountedByTypeOnMetrics() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry, () -> MetricsServer.Health.up("trainer"));
             KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            PublisherMeters.bind(publisher, registry);
            publisher.runStarted(MinimalRecords.runStarted("loss", "loss-r00000"));
            for (int t = 0; t < 3; t++) {
                publisher.iteration(MinimalRecords.iteration("loss", "loss-r00000", t));
            }
            publisher.flush();
            // Larger than the producer's max.request.size (1 MiB): refused in send, never retried.
            String huge = "x".repeat(2 * 1024 * 1024);
            assertThrows(TelemetryException.class, () -> publisher.runFinished(runFinished(huge)));

            PrometheusScrape scrape = PrometheusScrape.of(server.metricsUri());
            assertEquals(3.0, counter(scrape, "sgdscope_trainer_records_failed_total", "iteration"), scrape.text());
            assertEquals(1.0, counter(scrape, "sgdscope_trainer_records_dropped_total", "run_finished"), scrape.text());
            for (String type : List.of("run_started", "spectrum")) {
                assertEquals(0.0, counter(scrape, "sgdscope_trainer_records_dropped_total", type), scrape.text());
                assertEquals(0.0, counter(scrape, "sgdscope_trainer_records_failed_total", type), scrape.text());
            }
            assertEquals(0.0, counter(scrape, "sgdscope_trainer_records_dropped_total", "iteration"), scrape.text());
            assertEquals(0.0, counter(scrape, "sgdscope_trainer_records_failed_total", "run_finished"), scrape.text());
        }
    }

    private static double counter(PrometheusScrape scrape, String name, String type) {
        return scrape.value(name, Map.of("type", type))
                .orElseThrow(() -> new AssertionError("no " + name + "{type=\"" + type + "\"} on /metrics"));
    }

    private static RunFinished runFinished(String message) {
        return RunFinished.newBuilder()
                .setRunId("loss-r00000").setExperimentId("loss").setStatus(RunStatus.FAILED).setIterations(3)
                .setFinishedAtMillis(0).setDurationSeconds(0).setDroppedRecords(0).setMessage(message).build();
    }
}
