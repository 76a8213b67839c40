package io.sgdscope.streams.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void closeRegistry() {
        registry.close();
    }

    @Test
    void servesTheRegistryOnAFreePortOfLoopback() throws Exception {
        Counter.builder("sgdscope.test.events").tag("experiment", "e1").register(registry).increment(3);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry, () -> MetricsServer.Health.up("fine"))) {
            assertTrue(server.port() > 0, "the bound port is known");
            assertEquals(URI.create("http://127.0.0.1:" + server.port() + "/metrics"), server.metricsUri());

            HttpResponse<String> response = get(server.metricsUri());
            assertEquals(200, response.statusCode());
            assertTrue(response.body().contains("sgdscope_test_events_total{experiment=\"e1\"} 3.0"), response.body());
        }
    }

    @Test
    void healthAnswers200WhileUpAnd503WhileDown() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry,
                () -> up.get() ? MetricsServer.Health.up("RUNNING") : MetricsServer.Health.down("ERROR"))) {
            HttpResponse<String> healthy = get(server.healthUri());
            assertEquals(200, healthy.statusCode());
            assertEquals("UP RUNNING\n", healthy.body());

            up.set(false);
            HttpResponse<String> unhealthy = get(server.healthUri());
            assertEquals(503, unhealthy.statusCode());
            assertEquals("DOWN ERROR\n", unhealthy.body());

            assertEquals(404, get(URI.create("http://127.0.0.1:" + server.port() + "/nothing")).statusCode());
        }
    }

    @Test
    void readinessIsAnsweredApartFromLiveness() throws Exception {
        AtomicBoolean ready = new AtomicBoolean(false);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry, () -> MetricsServer.Health.up("alive"),
                () -> ready.get() ? MetricsServer.Health.up("RUNNING") : MetricsServer.Health.down("REBALANCING"))) {
            assertEquals(200, get(server.healthUri()).statusCode(), "alive while it rebalances");
            HttpResponse<String> notReady = get(server.readyUri());
            assertEquals(503, notReady.statusCode());
            assertEquals("DOWN REBALANCING\n", notReady.body());
            ready.set(true);
            assertEquals(200, get(server.readyUri()).statusCode());
        }
    }

    @Test
    void aTakenPortIsReportedInOneLine() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            UncheckedIOException error = assertThrows(UncheckedIOException.class,
                    () -> MetricsServer.start("127.0.0.1", port, registry, () -> MetricsServer.Health.up("")));
            assertEquals("metrics port " + port + " on 127.0.0.1 is in use", error.getMessage());
        }
    }

    private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }
}
