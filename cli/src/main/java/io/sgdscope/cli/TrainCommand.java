package io.sgdscope.cli;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.streams.metrics.MetricsServer;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.ResumePlan;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.data.DatasetException;
import io.sgdscope.trainer.data.DatasetSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.data.Splits;
import io.sgdscope.trainer.model.ModelPreset;
import io.sgdscope.trainer.optim.OptimizerSettings;
import io.sgdscope.trainer.telemetry.MeteredTelemetrySink;
import io.sgdscope.trainer.telemetry.PublisherMeters;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.kafka.common.acl.AclOperation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Trains an experiment and publishes its telemetry to a Kafka cluster (how deployments run trainers). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the runs of one experiment on ND4J's CPU backend and publish their telemetry "
                + "(RunStarted, IterationMetrics, RunFinished) to Kafka.",
                "Ctrl-C ends the runs in progress as CANCELLED and flushes what was produced; with --checkpoint-dir it "
                        + "suspends them instead (state saved, no RunFinished) and --resume continues them."})
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    TrainerOptions trainer;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--shard", paramLabel = "i/N",
            description = "Train only shard i of N of the experiment (1 <= i <= N <= --runs), so that N processes on "
                    + "several machines or GPUs, against one Kafka cluster, train one experiment together: the same "
                    + "--experiment and settings in every process, a different i in each. Shard i trains the run indices "
                    + "floor((i-1)R/N) .. floor(iR/N)-1 of the R runs, each with the run id, seed and minibatches the "
                    + "unsharded experiment gives it; every RunStarted says R, and the streams apps' live frontier waits "
                    + "until all R runs have started. --resume continues a shard (same i/N). Default: all runs.")
    String shard;

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
        TrainerSettings settings = settings();
        Splits data = load(settings);                        // before Kafka: bad data is found at once
        ResumePlan plan = plan(settings);                    // and conflicting or damaged checkpoints
        KafkaConnection connection = kafka.connection();
        if (metricsPort < -1 || metricsPort > 65_535) {
            throw new IllegalArgumentException("metrics port must be in 0..65535, or -1 for none, got " + metricsPort);
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        // Before Kafka is contacted: a taken port is a bad argument, found at once.
        try (MetricsServer server = metricsPort < 0 ? null : startMetrics(registry)) {
            kafka.prepare(connection, out);
            // A trainer denied WRITE would lose every record in the background: say so now, in one line.
            TopicAccess.require(connection, AclOperation.WRITE, RoleAcls.TRAINER_TOPICS);
            out.println("Training experiment " + settings.experimentId() + ": " + describe(settings) + " -> "
                    + connection.bootstrapServers());
            if (settings.checkpoint().resume()) {
                out.println(describe(plan, settings));
            }
            if (server != null) {
                out.println("Metrics: " + server.metricsUri());
            }
            out.flush();
            return train(settings, data, plan, connection, registry, out);
        }
    }

    private int train(TrainerSettings settings, Splits data, ResumePlan plan, KafkaConnection connection,
                      PrometheusMeterRegistry registry, PrintWriter out) {
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(connection.bootstrapServers(),
                connection.clientProperties())) {
            PublisherMeters.bind(publisher, registry);
            publisher.awaitTopics(Duration.ofSeconds(30));
            ExperimentProgress progress = new ExperimentProgress(settings.shardRuns() - plan.finished().size(), settings.iterations(),
                    out, () -> "");
            Experiment experiment = new Experiment(settings, data, new MeteredTelemetrySink(publisher, registry), progress);
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
                if (signal.isRequested()) {
                    return Sgdscope.EXIT_INTERRUPTED;
                }
                return exitCode(result, spec.commandLine().getErr());
            }
        }
    }

    /** The trainer options, with --shard. */
    TrainerSettings settings() {
        TrainerSettings settings = trainer.toSettings();
        if (shard == null) {
            return settings;
        }
        try {
            return settings.toBuilder().shard(io.sgdscope.trainer.Shard.parse(shard)).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--shard: " + e.getMessage(), e);
        }
    }

    /** 0, or 1 when a run FAILED (an exception inside training): a scheduler must see it, not only the log. */
    static int exitCode(ExperimentResult result, PrintWriter err) {
        long failed = result.count(io.sgdscope.schemas.RunStatus.FAILED);
        if (failed == 0) {
            return 0;
        }
        err.println("sgdscope: error: " + failed + " of " + result.runs().size() + " runs FAILED (their RunFinished "
                + "records say why)");
        err.flush();
        return Sgdscope.EXIT_RUNTIME_FAILURE;
    }

    private MetricsServer startMetrics(PrometheusMeterRegistry registry) {
        try {
            return MetricsServer.start(metricsHost, metricsPort, registry, () -> MetricsServer.Health.up("trainer"));
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof java.net.BindException) {
                throw new IllegalArgumentException("--metrics-port " + metricsPort + " on " + metricsHost + " is taken ("
                        + e.getCause().getMessage() + "): choose another, 0 for any free port or -1 for none");
            }
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    /** Generates or reads the data; a missing, truncated or damaged file is one line and exit 1. */
    static Splits load(TrainerSettings settings) {
        try {
            return settings.dataset().load();
        } catch (DatasetException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    /** What a resume will do; conflicting settings are a bad argument, unreadable checkpoints one line and exit 1. */
    static ResumePlan plan(TrainerSettings settings) {
        try {
            return ResumePlan.of(settings);
        } catch (CheckpointException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    /** E.g. "Resuming from /ckpt/g10: 3 finished runs skipped, 2 continue from their checkpoints, 95 start afresh". */
    static String describe(ResumePlan plan, TrainerSettings settings) {
        return String.format(java.util.Locale.ROOT, "Resuming from %s: %d finished runs skipped, %d continue from their "
                        + "checkpoints%s, %d start afresh",
                settings.checkpoint().dir().resolve(settings.experimentId()).toAbsolutePath(), plan.finished().size(),
                plan.resumable().size(), plan.resumable().isEmpty() ? "" : " (at t = " + plan.resumable().values().stream()
                        .distinct().sorted().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + ")",
                plan.fresh());
    }

    static String describe(TrainerSettings settings) {
        String optimizer = settings.optimizer().name().equals(OptimizerSettings.SGD) ? ""
                : settings.optimizer().provenanceName() + ", ";
        String engine = ", ensemble engine (" + (settings.ensembleBlock() > 0 ? "blocks of up to " + settings.ensembleBlock()
                + " runs" : "automatic blocks") + ")";
        String shard = !settings.shard().isPart() ? "" : String.format(java.util.Locale.ROOT, " (shard %s: runs %d..%d)",
                settings.shard(), settings.firstRun(), settings.endRun() - 1);
        return String.format(java.util.Locale.ROOT, "%d runs%s x %d iterations, %s, layers %s%s, %sbatch %d, lr %s, %s, %s, "
                        + "%d workers%s",
                settings.runs(), shard, settings.iterations(), describe(settings.dataset()), settings.layers(),
                ModelPreset.matching(settings.layers()).map(p -> " (" + p.id() + ")").orElse(""), optimizer,
                settings.batchSize(), settings.learningRate(), settings.initialization().id(), settings.precision().id(),
                settings.workers(), engine);
    }

    /** E.g. "Gauss-10 (n = 100, d = 50, r = 0.0, standardised)" or "MNIST (n = all, from /data/mnist), test set". */
    static String describe(DatasetSettings data) {
        String test = !data.testSet() ? "" : data.testSamples() > 0 ? ", test set of " + data.testSamples() : ", test set";
        GaussKSettings blobs = data.gaussK();
        if (blobs != null) {
            return String.format(java.util.Locale.ROOT, "Gauss-%d (n = %d, d = %d, r = %s%s)%s", blobs.classes(),
                    blobs.samples(), blobs.inputDimension(), blobs.randomLabelFraction(),
                    blobs.standardize() ? ", standardised" : ", raw", test);
        }
        String name = data.name().equals(DatasetSettings.MNIST) ? "MNIST" : "CIFAR-10";
        return name + " (n = " + (data.trainLimit() > 0 ? Integer.toString(data.trainLimit()) : "all") + ", from "
                + data.dataDir().toAbsolutePath() + ")" + test;
    }

    static String summary(ExperimentResult result, KafkaTelemetryPublisher publisher) {
        StringBuilder text = new StringBuilder();
        text.append(String.format(java.util.Locale.ROOT, "Runs: %d completed, %d diverged, %d cancelled, %d failed",
                result.count(io.sgdscope.schemas.RunStatus.COMPLETED), result.count(io.sgdscope.schemas.RunStatus.DIVERGED),
                result.count(io.sgdscope.schemas.RunStatus.CANCELLED), result.count(io.sgdscope.schemas.RunStatus.FAILED)));
        if (result.notStarted() > 0) {
            text.append(", ").append(result.notStarted()).append(" not started");
        }
        if (result.skipped() > 0) {
            text.append(", ").append(result.skipped()).append(" skipped (finished before)");
        }
        if (result.resumed() > 0) {
            text.append("; ").append(result.resumed()).append(" continued from a checkpoint");
        }
        if (result.suspended() > 0) {
            text.append(String.format(java.util.Locale.ROOT, "%nSuspended: %d cancelled runs saved their state "
                    + "(no RunFinished); --resume --experiment %s continues them", result.suspended(),
                    result.settings().experimentId()));
        }
        text.append(String.format(java.util.Locale.ROOT, "%nTraining: %,d iterations in %.1f s (%,.0f it/s)",
                result.iterations(), result.wallSeconds(), result.iterationsPerSecond()));
        text.append(String.format(java.util.Locale.ROOT, "%nTelemetry: %,d records sent, %,d dropped (producer buffer full), %,d failed",
                publisher.sentRecords(), publisher.droppedRecords(), publisher.failedRecords()));
        return text.toString();
    }
}
