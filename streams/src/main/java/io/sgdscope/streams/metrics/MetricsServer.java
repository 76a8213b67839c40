package io.sgdscope.streams.metrics;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Serves a Prometheus registry over HTTP:
 * <ul>
 *   <li>{@code /metrics}: the text exposition (OpenMetrics or protobuf on request);</li>
 *   <li>{@code /health}: liveness: 200 "UP ..." while the apps are alive (running, rebalancing or still
 *       starting), 503 "DOWN ..." once one stopped or failed: restart the process;</li>
 *   <li>{@code /ready}: readiness: 200 "UP ..." only while the apps run (their numbers are current), 503
 *       while one starts, restores its state or rebalances;</li>
 *   <li>{@code /-/healthy}: the exporter's own liveness (200 while this server runs).</li>
 * </ul>
 * Binds to loopback by default: exposing metrics beyond the machine is a decision for the caller.
 */
public final class MetricsServer implements AutoCloseable {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9400;

    /** What {@code /health} answers. */
    public record Health(boolean up, String detail) {

        public Health {
            Objects.requireNonNull(detail, "detail");
        }

        public static Health up(String detail) {
            return new Health(true, detail);
        }

        public static Health down(String detail) {
            return new Health(false, detail);
        }
    }

    private final HTTPServer server;
    private final String host;

    private MetricsServer(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /**
     * Starts serving.
     *
     * @param port the port, or 0 for a free one (see {@link #port()})
     * @param health what {@code /health} reports, asked on every request
     * @throws UncheckedIOException if the port is taken ("metrics port 9400 on 127.0.0.1 is in use") or
     *                              the address cannot be bound
     */
    public static MetricsServer start(String host, int port, PrometheusMeterRegistry registry, Supplier<Health> health) {
        return start(host, port, registry, health, health);
    }

    /**
     * Starts serving, with a readiness check of its own.
     *
     * @param readiness what {@code /ready} reports, asked on every request
     * @throws UncheckedIOException as {@link #start(String, int, PrometheusMeterRegistry, Supplier)}
     */
    public static MetricsServer start(String host, int port, PrometheusMeterRegistry registry, Supplier<Health> health,
                                      Supplier<Health> readiness) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(readiness, "readiness");
        try {
            HTTPServer server = HTTPServer.builder()
                    .hostname(host)
                    .port(port)
                    .registry(registry.getPrometheusRegistry())
                    // Every path without a handler of its own ends here: /health, and 404 for the rest.
                    .defaultHandler(exchange -> answer(exchange, health, readiness))
                    .buildAndStart();
            return new MetricsServer(server, host);
        } catch (BindException e) {
            throw new UncheckedIOException("metrics port " + port + " on " + host + " is in use", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** The bound port (the chosen one when started with port 0). */
    public int port() {
        return server.getPort();
    }

    public String host() {
        return host;
    }

    public URI metricsUri() {
        return uri("/metrics");
    }

    public URI healthUri() {
        return uri("/health");
    }

    public URI readyUri() {
        return uri("/ready");
    }

    @Override
    public void close() {
        server.close();
    }

    private URI uri(String path) {
        String address = host.contains(":") ? "[" + host + "]" : host; // an IPv6 literal needs brackets
        return URI.create("http://" + address + ":" + port() + path);
    }

    private static void answer(HttpExchange exchange, Supplier<Health> health, Supplier<Health> readiness) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/health") || path.equals("/ready")) {
                Health now = (path.equals("/health") ? health : readiness).get();
                respond(exchange, now.up() ? 200 : 503, (now.up() ? "UP " : "DOWN ") + now.detail() + "\n");
            } else if (path.equals("/")) {
                respond(exchange, 200, "sgdscope metrics: /metrics, /health, /ready\n");
            } else {
                respond(exchange, 404, "not found: " + path + " (try /metrics, /health or /ready)\n");
            }
        }
    }

    private static void respond(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
