package io.sgdscope.streams;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.streams.metrics.MetricsServer;
import java.util.function.Supplier;

/**
 * A registry of a process's own, with the JVM's meters, served by a {@link MetricsServer}: what a
 * process that runs the apps alone (not inside the caller's registry) shows on /metrics.
 */
final class Serving implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private MetricsServer server;

    Serving() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        gc.bindTo(registry);
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    /** @throws java.io.UncheckedIOException if the port is taken */
    void serve(StreamsSettings settings, Supplier<MetricsServer.Health> health, Supplier<MetricsServer.Health> readiness) {
        server = MetricsServer.start(settings.metricsHost(), settings.metricsPort(), registry, health, readiness);
    }

    int port() {
        return server == null ? -1 : server.port();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        gc.close();
        registry.close();
    }

    /** Both up: the first that is down otherwise. */
    static MetricsServer.Health both(MetricsServer.Health first, MetricsServer.Health second) {
        if (!first.up()) {
            return first;
        }
        if (!second.up()) {
            return second;
        }
        return MetricsServer.Health.up(first.detail() + ", " + second.detail());
    }
}
