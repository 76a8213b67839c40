package io.sgdscope.cli;

import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.TrainerSettings;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.trainer.telemetry.KafkaTelemetryPublisher;
import io.sgdscope.trainer.telemetry.MeteredTelemetrySink;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Trains an experiment and publishes its telemetry to a Kafka cluster (how deployments run trainers). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the runs of one experiment on ND4J's CPU backend and publish their telemetry "
                + "(RunStarted, IterationMetrics, RunFinished) to Kafka.",
                "Ctrl-C ends the runs in progress as CANCELLED and flushes what was produced."})
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    TrainerOptions trainer;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9401",
            description = "Port of the trainer's Prometheus endpoint http://HOST:PORT/metrics (iterations/s, curvature-probe "
                    + "time, runs, JVM; 0 = any free port, -1 = none). Default: ${DEFAULT-VALUE}.")
    int metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address the trainer's Prometheus endpoint binds to (0.0.0.0 to expose it). Default: ${DEFAULT-VALUE}.")
    String metricsHost;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        TrainerSettings settings = trainer.toSettings();
        KafkaConnection connection = kafka.connection();
        kafka.prepare(connection, out);
        out.println("Training experiment " + settings.experimentId() + ": " + describe(settings) + " -> " + connection.bootstrapServers());
        out.flush();

        if (metricsPort < -1 || metricsPort > 65_535) {
            throw new IllegalArgumentException("metrics port must be in 0..65535, or -1 for none, got " + metricsPort);
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        try (MetricsServer server = metricsPort < 0 ? null : startMetrics(registry);
             KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(connection.bootstrapServers(),
                connection.clientProperties())) {
            if (server != null) {
                out.println("Metrics: " + server.metricsUri());
                out.flush();
            }
            publisher.awaitTopics(Duration.ofSeconds(30));
            ExperimentProgress progress = new ExperimentProgress(settings.runs(), settings.iterations(), out, () -> "");
            Experiment experiment = new Experiment(settings, new MeteredTelemetrySink(publisher, registry), progress);
            try (ShutdownSignal signal = new ShutdownSignal(experiment::cancel)) {
                progress.start();
                ExperimentResult result;
                try {
                    result = experiment.run();
                } finally {
                    progress.close();
                }
                publisher.flush();
                out.println(summary(result, publisher));
                out.flush();
                return signal.isRequested() ? Sgdscope.EXIT_INTERRUPTED : 0;
            }
        }
    }

    private MetricsServer startMetrics(PrometheusMeterRegistry registry) {
        try {
            return MetricsServer.start(metricsHost, metricsPort, registry, () -> MetricsServer.Health.up("trainer"));
        } catch (java.io.UncheckedIOException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    static String describe(TrainerSettings settings) {
        return String.format(java.util.Locale.ROOT, "%d runs x %d iterations, Gauss-%d (n = %d, d = %d, r = %s%s), layers %s, "
                        + "batch %d, lr %s, %s, %s, %d workers",
                settings.runs(), settings.iterations(), settings.dataset().classes(), settings.dataset().samples(),
                settings.dataset().inputDimension(), settings.dataset().randomLabelFraction(),
                settings.dataset().standardize() ? ", standardised" : ", raw", settings.layers(), settings.batchSize(),
                settings.learningRate(), settings.initialization().id(), settings.precision().id(), settings.workers());
    }

    static String summary(ExperimentResult result, KafkaTelemetryPublisher publisher) {
        StringBuilder text = new StringBuilder();
        text.append(String.format(java.util.Locale.ROOT, "Runs: %d completed, %d diverged, %d cancelled, %d failed",
                result.count(io.sgdscope.schemas.RunStatus.COMPLETED), result.count(io.sgdscope.schemas.RunStatus.DIVERGED),
                result.count(io.sgdscope.schemas.RunStatus.CANCELLED), result.count(io.sgdscope.schemas.RunStatus.FAILED)));
        if (result.notStarted() > 0) {
            text.append(", ").append(result.notStarted()).append(" not started");
        }
        text.append(String.format(java.util.Locale.ROOT, "%nTraining: %,d iterations in %.1f s (%,.0f it/s)",
                result.iterations(), result.wallSeconds(), result.iterationsPerSecond()));
        text.append(String.format(java.util.Locale.ROOT, "%nTelemetry: %,d records sent, %,d dropped (producer buffer full), %,d failed",
                publisher.sentRecords(), publisher.droppedRecords(), publisher.failedRecords()));
        return text.toString();
    }
}
