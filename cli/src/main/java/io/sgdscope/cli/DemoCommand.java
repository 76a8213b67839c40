package io.sgdscope.cli;

import io.micrometer.core.instrument.Counter;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.embedded.BrokerSecurity;
import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.embedded.SecurityFiles;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.streams.QuantilesApp;
import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.AlertLog;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.CrossRunBand;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.RunResult;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.telemetry.MeteredTelemetrySink;
import io.sgdscope.trainer.telemetry.PublisherMeters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclOperation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Everything in one process with nothing but a JDK: a real Kafka broker (KRaft, loopback), the topics,
 * both streams apps (quantiles, deviation) with one Prometheus endpoint, and a Gauss-10 experiment
 * publishing to them. The summary shows how far the live bands were behind the trainer when training ended,
 * the final loss band and the alerts the deviation app raised.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline in this process: an embedded Kafka broker (loopback, data in a work "
                + "folder), the streams apps (quantiles and deviation checks) serving Prometheus metrics, and a Gauss-10 "
                + "experiment (default 100 runs x 400 iterations) publishing its telemetry. Shows progress, ends with a "
                + "summary of the loss band and the alerts raised.",
                "Every trainer option of 'sgdscope train' applies."})
final class DemoCommand implements Callable<Integer> {

    /** How long the demo waits for the streams app to count the last records before it summarises. */
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(90);

    @Spec
    CommandSpec spec;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "0",
            description = "Port of the embedded broker on 127.0.0.1 (0 = any free port; the address is printed so other "
                    + "Kafka tools can attach). Default: ${DEFAULT-VALUE}.")
    int kafkaPort;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Work folder for the broker's data and the streams state. Default: a new folder in the system's "
                    + "temporary directory.")
    Path workDir;

    @Option(names = "--keep",
            description = "Keep the work folder (the broker's data: the topics can be read again later) instead of removing it at exit.")
    boolean keep;

    @Option(names = "--hold",
            description = "After the experiment, keep the broker and the metrics endpoint up until Ctrl-C.")
    boolean hold;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "4",
            description = "Partitions of each topic. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--secure",
            description = "Secure the broker: one SASL_SSL listener (SCRAM-SHA-512) with a CA made at start, ACLs, and the users "
                    + "admin (super user), trainer, streams and viewer with generated passwords; the demo's trainer and streams "
                    + "apps log in as trainer and streams. The work folder's security/ gets ca.pem, truststore.p12 and "
                    + "client-<user>.properties for other clients. The controller listener stays PLAINTEXT on 127.0.0.1.")
    boolean secure;

    /** The users of {@code --secure}: the super user, then one per role (README.md, "Security"). */
    static final String ADMIN = "admin";
    static final String TRAINER = "trainer";
    static final String STREAMS = "streams";
    static final String VIEWER = "viewer";

    @Mixin
    StreamsOptions streams;

    @Mixin
    TrainerOptions trainer;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        TrainerSettings settings = trainer.toSettings();
        QuantilesSettings quantilesSettings = streams.toQuantilesSettings();
        DeviationSettings deviationSettings = streams.toDeviationSettings();
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (kafkaPort < 0 || kafkaPort > 65_535) {
            throw new IllegalArgumentException("kafka port must be in 0..65535 (0 = any free port), got " + kafkaPort);
        }
        WorkFolder work = WorkFolder.open(workDir, keep);
        out.println("sgdscope demo: experiment " + settings.experimentId() + ", " + TrainCommand.describe(settings));
        out.println("Work folder: " + work.path() + (keep ? " (kept at exit)" : work.created() ? " (removed at exit; --keep keeps it)" : " (existed before: kept)"));
        out.flush();

        Experiment[] experiment = new Experiment[1];
        try (ShutdownSignal signal = new ShutdownSignal(() -> {
            if (experiment[0] != null) {
                experiment[0].cancel();
            }
        }); work) {
            try (EmbeddedKafkaBroker broker = startBroker(work.path().resolve("kafka"), work.path().resolve("security"))) {
                out.println("Kafka broker: " + broker.bootstrapServers() + " (bootstrap servers for other Kafka tools while the demo runs)");
                // Without --secure every part uses the one open connection; with it, each logs in as its role.
                KafkaConnection connection = connectionAs(broker, ADMIN);
                KafkaConnection streamsConnection = connectionAs(broker, STREAMS);
                KafkaConnection trainerConnection = connectionAs(broker, TRAINER);
                StreamsSettings streamsSettings = streams.toSettings(streamsConnection, work.path().resolve("streams"));
                try (Admin admin = connection.admin()) {
                    TopicSetup.ensureTopics(admin, partitions, (short) 1);
                    if (secure) {
                        RoleAcls.create(admin, RoleAcls.trainer(TRAINER));
                        RoleAcls.create(admin, RoleAcls.streams(STREAMS, List.of(streamsSettings.quantilesApplicationId(),
                                streamsSettings.deviationApplicationId())));
                        RoleAcls.create(admin, RoleAcls.viewer(VIEWER));
                    }
                }
                broker.securityFiles().ifPresent(files -> describe(files, broker, out));
                if (secure) {
                    TopicAccess.require(trainerConnection, AclOperation.WRITE, RoleAcls.TRAINER_TOPICS);
                }
                try (StreamsApps apps = StreamsCommand.start(streamsSettings, quantilesSettings, deviationSettings)) {
                    QuantilesApp app = apps.quantiles();
                    String metricsUrl = "http://" + streamsSettings.metricsHost() + ":" + apps.metricsPort() + "/metrics";
                    out.println("Metrics: " + metricsUrl + " (health: /health, readiness: /ready)");
                    out.flush();
                    apps.awaitRunning(Duration.ofSeconds(60));

                    ExperimentProgress progress = new ExperimentProgress(settings.runs(), settings.iterations(), out,
                            () -> medianLoss(app, settings.experimentId()));
                    ExperimentResult result;
                    LiveViewLag liveViewLag;
                    long sentIterations;
                    try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(trainerConnection.bootstrapServers(),
                            trainerConnection.clientProperties())) {
                        publisher.awaitTopics(Duration.ofSeconds(30));
                        PublisherMeters.bind(publisher, apps.registry());
                        // The trainer's meters join the streams apps' registry: one /metrics for the whole demo.
                        experiment[0] = new Experiment(settings, new MeteredTelemetrySink(publisher, apps.registry()), progress);
                        progress.start();
                        try {
                            result = experiment[0].run();
                            liveViewLag = LiveViewLag.atEndOfTraining(lastTrainedIteration(result),
                                    app.experiments().current(settings.experimentId()), System::nanoTime);
                        } finally {
                            progress.close();
                        }
                        publisher.flush();
                        sentIterations = progress.iterations() - publisher.droppedRecords();
                        out.println(TrainCommand.summary(result, publisher));
                    }
                    if (!signal.isRequested()) {
                        awaitStreams(apps, settings, progress, sentIterations, liveViewLag, out);
                        out.println(liveViewLag.summaryLine());
                        out.println(finalBand(app, settings));
                        out.println(alertSummary(apps, settings));
                        out.println("Metrics were served at " + metricsUrl + "; Kafka at " + broker.bootstrapServers() + ".");
                        out.flush();
                        if (hold) {
                            out.println("Holding the broker and the metrics endpoint: Ctrl-C to stop.");
                            out.flush();
                            signal.await();
                        }
                    }
                }
            }
            out.println(work.closingNote());
            out.flush();
            return signal.isRequested() && !hold ? Sgdscope.EXIT_INTERRUPTED : 0;
        }
    }

    private EmbeddedKafkaBroker startBroker(Path dataDir, Path securityDir) {
        BrokerSettings settings = BrokerSettings.of(dataDir).withPort(kafkaPort);
        if (secure) {
            settings = settings.withSecurity(new BrokerSecurity(securityDir, ADMIN, List.of(TRAINER, STREAMS, VIEWER)));
        }
        try {
            return EmbeddedKafkaBroker.start(settings);
        } catch (RuntimeException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    /**
     * The connection of one part of the demo. Secured, it is read from the user's client file, as
     * {@code train} and {@code streams} read their {@code --kafka-config}: the files printed are the files used.
     */
    private KafkaConnection connectionAs(EmbeddedKafkaBroker broker, String user) {
        return new KafkaConnection(broker.bootstrapServers(), broker.securityFiles()
                .map(files -> KafkaConnection.readClientProperties(files.clientPropertiesFile(user)))
                .orElse(Map.of()));
    }

    private static void describe(SecurityFiles files, EmbeddedKafkaBroker broker, PrintWriter out) {
        out.println("Security: SASL_SSL with SCRAM-SHA-512 on " + broker.bootstrapServers() + ", ACLs per role (README.md, "
                + "\"Security\"); the controller listener stays PLAINTEXT on 127.0.0.1");
        out.println("  CA certificate (kcat: -X ssl.ca.location=...): " + files.caPem());
        out.println("  (librdkafka before 2.6.1, e.g. Debian 12's kcat: -X sasl.mechanisms=PLAIN, same users and passwords)");
        out.println("  Java truststore: " + files.truststore());
        for (String user : List.of(ADMIN, TRAINER, STREAMS, VIEWER)) {
            out.println("  Client properties of " + user + (user.equals(ADMIN) ? " (super user)" : "") + ": "
                    + files.clientPropertiesFile(user));
        }
        out.flush();
    }

    /** The streams app's current median loss of the experiment, for the progress line. */
    private static String medianLoss(QuantilesApp app, String experimentId) {
        Optional<CrossRunBand> band = app.bands().current(experimentId, "loss");
        return band.map(b -> String.format(Locale.ROOT, "median loss %.4g at t=%d (%d runs)", b.median(), b.iteration(), b.runs()))
                .orElse("median loss: waiting for the streams app");
    }

    /** The deepest iteration any run of this process reached (-1 if none trained one). */
    static int lastTrainedIteration(ExperimentResult result) {
        return result.runs().stream().mapToInt(RunResult::iterations).max().orElse(0) - 1;
    }

    /**
     * Waits until both streams apps have counted every iteration record sent, the band of the last
     * iteration holds every run that reached it and every run's finish is counted, so that the summary
     * shows the final numbers. Meanwhile tells {@code liveViewLag} where the frontier is, every 100 ms.
     *
     * @throws SgdscopeException at once if a streams app failed or has no live stream thread (one line, exit 1)
     */
    private static void awaitStreams(StreamsApps apps, TrainerSettings settings, ExperimentProgress progress,
                                     long sentIterations, LiveViewLag liveViewLag, PrintWriter out) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP_TIMEOUT.toNanos();
        int last = settings.iterations() - 1;
        String experimentId = settings.experimentId();
        while (System.nanoTime() < deadline) {
            Optional<String> failure = apps.failure();
            if (failure.isPresent()) {
                // An app that stopped will never catch up: say so at once and end non-zero (the trainer's records are kept).
                throw new SgdscopeException(failure.get() + "; the demo's telemetry is on the broker, but the live view stopped");
            }
            liveViewLag.observe(apps.quantiles().experiments().current(experimentId));
            Optional<CrossRunBand> band = apps.quantiles().bands().current(experimentId, "loss");
            boolean lastIterationComplete = progress.reachedLastIteration() == 0 || band.isPresent()
                    && band.get().iteration() == last && band.get().runs() == progress.reachedLastIteration();
            boolean finishesCounted = apps.quantiles().experiments().current(experimentId)
                    .map(status -> status.finished() >= settings.runs()).orElse(false);
            if (lastIterationComplete && finishesCounted && counted(apps, MeterNames.ITERATION_RECORDS, experimentId) >= sentIterations
                    && counted(apps, MeterNames.DEVIATION_RECORDS, experimentId) >= sentIterations) {
                liveViewLag.observe(apps.quantiles().experiments().current(experimentId));
                return;
            }
            Thread.sleep(100);
        }
        out.println("The streams apps had not caught up after " + CATCH_UP_TIMEOUT.toSeconds() + " s ("
                + (long) counted(apps, MeterNames.ITERATION_RECORDS, experimentId) + " and "
                + (long) counted(apps, MeterNames.DEVIATION_RECORDS, experimentId) + " of " + sentIterations
                + " iteration records counted).");
    }

    private static double counted(StreamsApps apps, String counterName, String experimentId) {
        Counter counter = apps.registry().find(counterName).tag(MeterNames.TAG_EXPERIMENT, experimentId).counter();
        return counter == null ? 0 : counter.count();
    }

    /**
     * The deviation app's alerts of the experiment, by check, with the first message of each, and the
     * runs by state as the quantiles app counted them.
     */
    static String alertSummary(StreamsApps apps, TrainerSettings settings) {
        String experimentId = settings.experimentId();
        StringBuilder summary = new StringBuilder();
        apps.quantiles().experiments().current(experimentId).ifPresent(status -> summary.append(String.format(Locale.ROOT,
                "Runs (streams apps): %d completed, %d diverged, %d cancelled, %d failed, %d still active%s%n",
                status.completed(), status.diverged(), status.cancelled(), status.failed(), status.active(),
                status.stalled() == 0 ? "" : ", " + status.stalled() + " stalled")));
        AlertLog log = apps.deviation().alerts();
        Map<DeviationCheck, Long> counts = log.counts(experimentId);
        long total = counts.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return summary.append("Alerts (deviation app): none: every checked step within the paper's bounds (δ = ")
                    .append(apps.deviation().deviationSettings().delta()).append(")").toString();
        }
        summary.append("Alerts (deviation app): ").append(total).append(" raised (sgd.alerts):");
        List<DeviationAlert> latest = log.latest(experimentId);
        for (Map.Entry<DeviationCheck, Long> entry : counts.entrySet()) {
            summary.append(String.format(Locale.ROOT, "%n  %s (%s): %d", entry.getKey().name().toLowerCase(Locale.ROOT),
                    AlertLog.severityOf(entry.getKey()).name().toLowerCase(Locale.ROOT), entry.getValue()));
            latest.stream().filter(alert -> alert.getCheck() == entry.getKey()).findFirst()
                    .ifPresent(alert -> summary.append(", e.g. ").append(alert.getMessage()));
        }
        return summary.toString();
    }

    private static String finalBand(QuantilesApp app, TrainerSettings settings) {
        return app.bands().current(settings.experimentId(), "loss")
                .map(b -> String.format(Locale.ROOT,
                        "Loss across %d runs at iteration %d (streams app): p05 %.4g | p25 %.4g | median %.4g | p75 %.4g | p95 %.4g | mean %.4g",
                        b.runs(), b.iteration(), b.quantiles().p05(), b.quantiles().p25(), b.quantiles().p50(),
                        b.quantiles().p75(), b.quantiles().p95(), b.mean()))
                .orElse("The streams app has no loss band for " + settings.experimentId() + ".");
    }

    /** The demo's work folder: created if missing, removed at exit unless kept or it existed before. */
    record WorkFolder(Path path, boolean created, boolean keep) implements AutoCloseable {

        static WorkFolder open(Path requested, boolean keep) {
            try {
                if (requested == null) {
                    return new WorkFolder(Files.createTempDirectory("sgdscope-demo-"), true, keep);
                }
                Path path = requested.toAbsolutePath().normalize();
                boolean existed = Files.isDirectory(path);
                Files.createDirectories(path);
                return new WorkFolder(path, !existed, keep);
            } catch (IOException e) {
                throw new SgdscopeException("cannot create the work folder " + (requested == null ? "in the temporary directory" : requested)
                        + ": " + e.getMessage(), e);
            }
        }

        String closingNote() {
            return keep || !created ? "Work folder kept: " + path : "Work folder removed.";
        }

        @Override
        public void close() {
            if (keep || !created) {
                return;
            }
            deleteTree(path);
        }

        /** Removes a folder and everything in it; a failure is reported on stderr, not thrown (nothing else depends on it). */
        static void deleteTree(Path folder) {
            try (Stream<Path> files = Files.walk(folder)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                System.err.println("sgdscope: could not remove " + folder + ": " + e.getMessage());
            }
        }
    }

}
