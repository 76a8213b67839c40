package io.sgdscope.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.KafkaClientSettings;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.client.SgdscopeClient;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.trainer.Engine;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.PerRunEngine;
import io.sgdscope.trainer.StepObserver;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Splits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DL4J experiment through a real broker and both streams apps: the same three Gauss-10 runs (theta_0, minibatches)
 * trained once by the built-in trainer and once by DL4J with the listener give the same series on /metrics — the
 * quantiles app's cross-run bands and the deviation app's checks — up to 1e-9 relative (all but the training accuracy's
 * bands, which the listener does not publish).
 */
class Dl4jPipelineIT {

    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name,
            Topics.Spec::config);

    @TempDir
    Path dir;

    @Test
    void aDl4jExperimentGetsTheBandsAndChecksOfTheSameBuiltInExperiment() throws Exception {
        TrainerSettings settings = TrainerSettings.builder().experimentId("builtin").runs(3).iterations(40).workers(1)
                .engine(Engine.PER_RUN).curvature(CurvatureSettings.defaults().withMomentsEvery(0).withSpectrumEvery(0))
                .build();
        Splits data = settings.dataset().load();
        StreamsSettings streams = StreamsSettings.defaults(broker.bootstrapServers(), dir.resolve("streams"))
                .withMetrics("127.0.0.1", 0);
        try (StreamsApps apps = StreamsApps.start(streams, QuantilesSettings.defaults(), DeviationSettings.defaults())) {
            assertTrue(apps.awaitRunning(Duration.ofSeconds(60)), "the streams apps run");
            try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
                PerRunEngine.experiment(settings, data, publisher, ExperimentListener.none(), StepObserver.none()).run();
            }
            try (SgdscopeClient client = SgdscopeClient.connect(KafkaClientSettings.of(broker.bootstrapServers()))) {
                for (int r = 0; r < settings.runs(); r++) {
                    assertEquals(RunStatus.COMPLETED,
                            BuiltInRunsInDl4j.train(client, settings, data.train(), "dl4j", r, false).getStatus());
                }
            }
            Map<String, Double> builtIn = Map.of();
            Map<String, Double> dl4j = Map.of();
            Map<String, Double> previousBuiltIn = Map.of();
            Map<String, Double> previousDl4j = Map.of();
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                Map<String, Double> all = scrape(apps.metricsPort());
                builtIn = ofExperiment(all, "builtin");
                dl4j = ofExperiment(all, "dl4j");
                // A band's gauges are set one after another: a scrape between them can pair a final count with an
                // earlier value. Done means done twice in a row with nothing changed in between.
                if (done(builtIn) && done(dl4j) && builtIn.equals(previousBuiltIn) && dl4j.equals(previousDl4j)) {
                    break;
                }
                previousBuiltIn = builtIn;
                previousDl4j = dl4j;
                Thread.sleep(500);
            }
            assertTrue(done(builtIn) && done(dl4j), "both experiments counted to their end:\n" + builtIn + "\n" + dl4j);
            assertTrue(builtIn.keySet().stream().anyMatch(k -> k.startsWith("sgdscope_cross_run_quantile")),
                    "bands on /metrics: " + builtIn.keySet());
            assertTrue(builtIn.keySet().stream().anyMatch(k -> k.startsWith("sgdscope_theorem1_steps_total")),
                    "the deviation app's checks on /metrics: " + builtIn.keySet());
            // The built-in trainer also publishes the training accuracy, which the listener does not compute.
            builtIn.keySet().removeIf(key -> key.contains("metric=\"trainAccuracy\""));
            java.util.Set<String> onlyBuiltIn = new java.util.TreeSet<>(builtIn.keySet());
            onlyBuiltIn.removeAll(dl4j.keySet());
            java.util.Set<String> onlyDl4j = new java.util.TreeSet<>(dl4j.keySet());
            onlyDl4j.removeAll(builtIn.keySet());
            assertEquals(java.util.Set.of(), onlyBuiltIn, "series of the built-in experiment only");
            assertEquals(java.util.Set.of(), onlyDl4j, "series of the DL4J experiment only");
            for (Map.Entry<String, Double> series : builtIn.entrySet()) {
                double expected = series.getValue();
                double actual = dl4j.get(series.getKey());
                if (Double.isNaN(expected)) {
                    assertTrue(Double.isNaN(actual), series.getKey());
                } else {
                    assertEquals(expected, actual, 1e-9 * Math.abs(expected), series.getKey());
                }
            }
        }
    }

    /**
     * Both apps have every run completed, the frontier and every band (Delta_t's too, which waits for RunFinished's
     * final loss) at the last iteration.
     */
    private static boolean done(Map<String, Double> series) {
        boolean bandsAtTheEnd = series.entrySet().stream()
                .filter(e -> e.getKey().startsWith("sgdscope_cross_run_iteration"))
                .allMatch(e -> e.getValue() == 39.0);
        // A band at the last iteration is drawn first from the runs whose values arrived: it is final once it counts
        // all three (Delta_t's last band waits for each RunFinished's final loss).
        boolean bandsOfEveryRun = series.entrySet().stream()
                .filter(e -> e.getKey().startsWith("sgdscope_cross_run_runs"))
                .allMatch(e -> e.getValue() == 3.0);
        return bandsAtTheEnd && bandsOfEveryRun
                && series.containsKey("sgdscope_cross_run_iteration{metric=\"lossDelta\"}")
                && Double.valueOf(3).equals(series.get("sgdscope_experiment_runs{state=\"completed\"}"))
                && Double.valueOf(39).equals(series.get("sgdscope_experiment_frontier_iteration"))
                && Double.valueOf(120).equals(series.get("sgdscope_deviation_records_total"));
    }

    /** The series of one experiment, its label (and its run ids) taken out of the key. */
    private static Map<String, Double> ofExperiment(Map<String, Double> all, String experiment) {
        Map<String, Double> of = new TreeMap<>();
        for (Map.Entry<String, Double> series : all.entrySet()) {
            String key = series.getKey();
            if (!key.contains("experiment=\"" + experiment + "\"")) {
                continue;
            }
            String stripped = key.replace("experiment=\"" + experiment + "\",", "")
                    .replace(",experiment=\"" + experiment + "\"", "").replace("experiment=\"" + experiment + "\"", "")
                    .replace("{}", "").replace(experiment + "-r", "RUN-r");
            of.put(stripped, series.getValue());
        }
        return of;
    }

    private static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, Double> series = new TreeMap<>();
        for (String line : response.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String value = line.substring(space + 1).replace("+Inf", "Infinity").replace("-Inf", "-Infinity");
            series.put(line.substring(0, space), Double.parseDouble(value));
        }
        return series;
    }
}
