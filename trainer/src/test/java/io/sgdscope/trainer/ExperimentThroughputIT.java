package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.telemetry.InMemoryTelemetrySink;
import io.sgdscope.trainer.telemetry.KafkaTelemetryPublisher;
import io.sgdscope.trainer.telemetry.TelemetrySink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Wall time of the paper's Gauss-10 experiment size used in the module's measurements: 100 runs x
 * 400 iterations. Not a test of behaviour, so off by default; run it with
 * {@code ./mvnw -B -o -q -pl trainer verify -Dsgdscope.bench=true -Dit.test=ExperimentThroughputIT}.
 */
@EnabledIfSystemProperty(named = "sgdscope.bench", matches = "true")
class ExperimentThroughputIT {

    private static final int ROUNDS = 3;

    @Test
    void gauss10HundredRunsIntoMemoryAndNowhere() {
        int cores = Runtime.getRuntime().availableProcessors();
        for (int workers : new int[] {1, 2, 4}) {
            measure("discarding sink, " + workers + " workers", workers, TelemetrySink::discarding);
        }
        measure("in-memory sink, " + cores + " workers", cores, InMemoryTelemetrySink::new);
    }

    @Test
    void gauss10HundredRunsIntoAnEmbeddedBroker() throws Exception {
        Path dataDir = Files.createDirectories(Path.of("target", "kafka-bench")).resolve("broker-" + System.nanoTime());
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.of(dataDir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                List<NewTopic> topics = new ArrayList<>();
                for (Topics.Spec spec : Topics.all()) {
                    if (spec.name().equals(Topics.RUNS) || spec.name().equals(Topics.ITERATIONS)) {
                        topics.add(new NewTopic(spec.name(), 4, (short) 1).configs(spec.config()));
                    }
                }
                admin.createTopics(topics).all().get();
            }
            int cores = Runtime.getRuntime().availableProcessors();
            for (String compression : new String[] {"lz4", "zstd", "none"}) {
                for (int round = 0; round < ROUNDS; round++) {
                    long bytesBefore = iterationLogBytes(dataDir);
                    long start = System.nanoTime();
                    KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(),
                            Map.of("compression.type", compression));
                    TrainerSettings settings = TrainerSettings.builder().experimentId("bench-" + compression + round)
                            .workers(cores).curvature(CurvatureSettings.off()).build();
                    ExperimentResult result = new Experiment(settings, publisher, ExperimentListener.none()).run();
                    publisher.close();                                  // flushes: every record acknowledged
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("BENCH embedded broker, %s, %d workers: %.2f s incl. flush (training %.2f s),"
                                    + " %.0f iterations/s, %d dropped, %d failed, %.1f bytes per iteration record on disk%n",
                            compression, cores, seconds, result.wallSeconds(), result.iterations() / seconds,
                            publisher.droppedRecords(), publisher.failedRecords(),
                            (iterationLogBytes(dataDir) - bytesBefore) / (double) result.iterations());
                    assertEquals(100, result.count(RunStatus.COMPLETED));
                }
            }
        }
    }

    /** Bytes of the sgd.iterations log segments under the broker's data dir. */
    private static long iterationLogBytes(Path dataDir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(dataDir)) {
            return files.filter(p -> p.getParent().getFileName().toString().startsWith(Topics.ITERATIONS + "-"))
                    .filter(p -> p.getFileName().toString().endsWith(".log"))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void measure(String label, int workers, java.util.function.Supplier<TelemetrySink> sinks) {
        for (int round = 0; round < ROUNDS; round++) {
            TrainerSettings settings = TrainerSettings.builder().workers(workers).curvature(CurvatureSettings.off()).build();
            ExperimentResult result = new Experiment(settings, sinks.get(), ExperimentListener.none()).run();
            System.out.printf("BENCH %s (ND4J op threads %d): %.2f s, %.0f iterations/s%n", label, Nd4jThreads.current(),
                    result.wallSeconds(), result.iterationsPerSecond());
            assertEquals(100, result.count(RunStatus.COMPLETED));
        }
    }
}
