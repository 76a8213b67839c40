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
 *   <li>{@code /health}: 200 "UP ..." while the app is healthy, 503 "DOWN ..." otherwise;</li>
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
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(health, "health");
        try {
            HTTPServer server = HTTPServer.builder()
                    .hostname(host)
                    .port(port)
                    .registry(registry.getPrometheusRegistry())
                    // Every path without a handler of its own ends here: /health, and 404 for the rest.
                    .defaultHandler(exchange -> answer(exchange, health))
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

    @Override
    public void close() {
        server.close();
    }

    private URI uri(String path) {
        String address = host.contains(":") ? "[" + host + "]" : host; // an IPv6 literal needs brackets
        return URI.create("http://" + address + ":" + port() + path);
    }

    private static void answer(HttpExchange exchange, Supplier<Health> health) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/health")) {
                Health now = health.get();
                respond(exchange, now.up() ? 200 : 503, (now.up() ? "UP " : "DOWN ") + now.detail() + "\n");
            } else if (path.equals("/")) {
                respond(exchange, 200, "sgdscope metrics: /metrics, /health\n");
            } else {
                respond(exchange, 404, "not found: " + path + " (try /metrics or /health)\n");
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
