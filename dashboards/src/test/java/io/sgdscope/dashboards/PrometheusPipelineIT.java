package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped rules and dashboards against a real Prometheus server scraping the real pipeline: the
 * embedded broker, both streams apps, and an experiment with a planted deviation and a diverging run.
 * Every panel query and every rule must return data, and the deviation and divergence alerts must fire.
 */
class PrometheusPipelineIT {

    private static final Duration PATIENCE = Duration.ofSeconds(150);

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @TempDir
    Path dir;

    @Test
    void everyPanelAndRuleReturnsDataAndThePlantedAlertsFire() throws Exception {
        StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), dir.resolve("streams")).withMetrics("127.0.0.1", 0);
        try (StreamsApps apps = StreamsApps.start(settings, QuantilesSettings.defaults(), DeviationSettings.defaults())) {
            assertTrue(apps.awaitRunning(Duration.ofSeconds(60)), "the streams apps run");
            int metricsPort = apps.metricsPort();
            Path config = prometheusConfig(metricsPort);
            try (PrometheusServer prometheus = PrometheusServer.start(config, dir.resolve("prometheus"))) {
                // Prometheus runs before the telemetry arrives, as it would in a deployment.
                awaitScraped(prometheus, "sgdscope_app_running");
                try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", broker.bootstrapServers()),
                        new StringSerializer(), new ByteArraySerializer())) {
                    PlantedExperiment.publish(producer);
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.ITERATIONS, "garbage",
                            "not telemetry".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                }
                // A real trainer too, metered into the same registry (as the demo does): the trainer panels.
                trainRealExperiment(broker.bootstrapServers(), apps);
                awaitFiring(prometheus, "SgdscopeDeviationBoundViolated");
                awaitFiring(prometheus, "SgdscopeRunDiverged");

                Map<String, String> variables = Map.of("experiment", PlantedExperiment.ID, "run", PlantedExperiment.DEVIATING_RUN,
                        "__range", "10m");
                // The bands and recording rules fill in over a few scrapes: ask until every query has data.
                List<String> empty = emptyQueries(prometheus, variables);
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                while (!empty.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(2_000);
                    empty = emptyQueries(prometheus, variables);
                }
                assertEquals(List.of(), empty, "queries without data");

                Set<String> exposed = exposedNames(metricsPort);
                Set<String> unknown = new TreeSet<>();
                List<Dashboards.Query> all = new ArrayList<>(Dashboards.panelQueries());
                all.addAll(Dashboards.ruleQueries());
                Set<String> recorded = Dashboards.recordedNames();
                for (Dashboards.Query query : all) {
                    for (String name : Dashboards.metricNames(query.expr())) {
                        if (!exposed.contains(name) && !recorded.contains(name) && !name.equals("ALERTS")) {
                            unknown.add(name + " (" + query.source() + ")");
                        }
                    }
                }
                assertEquals(Set.of(), unknown, "metric names used by dashboards and rules but not exposed");
            }
        }
    }

    private static List<String> emptyQueries(PrometheusServer prometheus, Map<String, String> variables) throws Exception {
        List<String> empty = new ArrayList<>();
        for (Dashboards.Query query : Dashboards.panelQueries()) {
            String expr = Dashboards.substitute(query.expr(), variables);
            if (!nonEmpty(prometheus, expr)) {
                empty.add(query.source() + ": " + expr);
            }
        }
        for (Dashboards.Query query : Dashboards.ruleQueries()) {
            // An alert's expression is "signal > threshold": the signal must be there even when the
            // threshold is not crossed (the planted alerts are checked as firing).
            String signal = query.source().startsWith("alert ") ? signalOf(query.expr()) : query.expr();
            if (!nonEmpty(prometheus, signal)) {
                empty.add(query.source() + ": " + signal);
            }
        }
        return empty;
    }

    private static void trainRealExperiment(String bootstrap, StreamsApps apps) {
        io.sgdscope.trainer.TrainerSettings settings = io.sgdscope.trainer.TrainerSettings.builder().experimentId("real").runs(3)
                .iterations(60).workers(2).curvature(io.sgdscope.trainer.curvature.CurvatureSettings.defaults()
                        .withMomentsEvery(1).withSpectrumEvery(20).withTopK(3))
                .build();
        try (io.sgdscope.client.KafkaTelemetryPublisher publisher =
                     new io.sgdscope.client.KafkaTelemetryPublisher(bootstrap, Map.of())) {
            io.sgdscope.trainer.telemetry.PublisherMeters.bind(publisher, apps.registry());
            io.sgdscope.trainer.ExperimentResult result = new io.sgdscope.trainer.Experiment(settings,
                    new io.sgdscope.trainer.telemetry.MeteredTelemetrySink(publisher, apps.registry()),
                    io.sgdscope.trainer.ExperimentListener.none()).run();
            assertEquals(3, result.runs().size());
        }
    }

    private static void awaitScraped(PrometheusServer prometheus, String metric) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            if (prometheus.query(metric).size() > 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Prometheus never scraped " + metric + ": " + prometheus.targets() + "\n" + prometheus.log());
    }

    /** The part of an alert expression before its final comparison with a threshold. */
    static String signalOf(String expr) {
        String trimmed = expr.strip();
        int at = Math.max(trimmed.lastIndexOf(" > "), trimmed.lastIndexOf(" == "));
        return at < 0 ? trimmed : trimmed.substring(0, at);
    }

    private static boolean nonEmpty(PrometheusServer prometheus, String expr) throws Exception {
        return prometheus.query(expr).size() > 0;
    }

    private void awaitFiring(PrometheusServer prometheus, String alert) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        List<JsonNode> alerts = List.of();
        while (System.nanoTime() < deadline) {
            alerts = prometheus.alerts();
            for (JsonNode a : alerts) {
                if (a.path("labels").path("alertname").asText().equals(alert) && a.path("state").asText().equals("firing")
                        && a.path("labels").path("experiment").asText().equals(PlantedExperiment.ID)) {
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError(alert + " did not fire within " + PATIENCE + "; alerts: " + alerts + "\ntargets: "
                + prometheus.targets() + "\n" + prometheus.log());
    }

    private Path prometheusConfig(int metricsPort) throws Exception {
        Path rules = Dashboards.RULES.toAbsolutePath();
        String config = String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  evaluation_interval: 1s",
                "rule_files:",
                "  - " + rules,
                "scrape_configs:",
                "  - job_name: sgdscope-streams",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + metricsPort + "']",
                "");
        Path file = dir.resolve("prometheus.yml");
        Files.createDirectories(dir.resolve("prometheus"));
        Files.writeString(file, config);
        return file;
    }

    private static Set<String> exposedNames(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Set<String> names = new TreeSet<>();
        for (String line : response.body().split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
