package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * {@code sgdscope demo} runs both streams apps: with a step size far too large every run blows up, and
 * the summary, the sgd.alerts topic and the metrics endpoint all tell the same: one CRITICAL divergence
 * alert per run, never two. (Where the trainer computes the moments, Theorem 1 may well alert too:
 * the steps of a blown-up run are far from the theorem's interval.)
 */
class DemoAlertsIT {

    private static final String EXPERIMENT = "it-demo-diverging";
    private static final int RUNS = 4;

    @Test
    void aDemoWhoseRunsDivergeReportsOneDivergenceAlertPerRunInItsSummaryTopicAndMetrics() throws Exception {
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--runs", "" + RUNS, "--iterations", "60",
                "--experiment", EXPERIMENT, "--lr", "200", "--metrics-port", "0", "--workers", "2", "--hold")) {
            String bootstrap = demo.awaitLine(Pattern.compile("^Kafka broker: (\\S+)"), Duration.ofSeconds(60)).group(1);
            URI metrics = URI.create(demo.awaitLine(Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));
            Matcher alerts = demo.awaitLine(Pattern.compile("^Alerts \\(deviation app\\): (\\d+) raised"), Duration.ofSeconds(120));
            demo.awaitLine(Pattern.compile("^Holding the broker"), Duration.ofSeconds(60));
            String output = String.join("\n", demo.stdout());
            int raised = Integer.parseInt(alerts.group(1));
            assertTrue(raised >= RUNS, output);
            assertTrue(output.contains("  divergence (critical): " + RUNS + ", e.g. run " + EXPERIMENT), output);

            List<DeviationAlert> divergence = readAlerts(bootstrap, raised).stream()
                    .filter(alert -> alert.getCheck() == DeviationCheck.DIVERGENCE).toList();
            assertEquals(RUNS, divergence.size(), divergence.toString());
            assertEquals(RUNS, divergence.stream().map(DeviationAlert::getRunId).distinct().count(), "one per run");

            PrometheusScrape scrape = PrometheusScrape.of(metrics);
            assertEquals(RUNS, scrape.value("sgdscope_deviation_alerts_total",
                    Map.of("experiment", EXPERIMENT, "check", "divergence", "severity", "critical")).orElseThrow(), 0.0);
            assertEquals(0.0, scrape.value("sgdscope_deviation_alerts_total",
                    Map.of("experiment", EXPERIMENT, "check", "azuma_bernstein")).orElseThrow(), 0.0);
            assertTrue(scrape.value("sgdscope_app_running", Map.of("application", "sgdscope-deviation")).orElseThrow() == 1.0);

            demo.terminate();
            assertEquals(143, demo.awaitExit(Duration.ofSeconds(60)));
        }
    }

    private static List<DeviationAlert> readAlerts(String bootstrap, int expected) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<DeviationAlert> read = new ArrayList<>();
        try (KafkaConsumer<String, DeviationAlert> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                TelemetrySerdes.alerts().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.ALERTS).stream()
                    .map(info -> new TopicPartition(Topics.ALERTS, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, DeviationAlert> record : consumer.poll(Duration.ofMillis(200))) {
                    read.add(record.value());
                }
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                if (read.size() >= expected && partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
                    break;
                }
            }
        }
        return read;
    }
}
