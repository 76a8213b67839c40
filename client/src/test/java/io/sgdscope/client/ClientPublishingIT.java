package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real single-node Kafka broker: records read back with the project's serde and python3-avro. */
class ClientPublishingIT {

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(3, Topics.all().stream()
            .filter(spec -> List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA).contains(spec.name())).toList(),
            Topics.Spec::name, Topics.Spec::config);

    @TempDir
    Path dir;

    @Test
    void theReadmeExamplePublishesARunThatReadsBackWithTheSerdeAndPythonAvro() throws Exception {
        ReadmeExample.run(broker.bootstrapServers(), new LeastSquaresModel(200, 20, 11));

        // The reference: the same training replayed, ||g_t|| and cos(g_t, g_{t-1}) summed here independently.
        LeastSquaresModel replay = new LeastSquaresModel(200, 20, 11);
        double[] expectedNorm = new double[100];
        Double[] expectedCos = new Double[100];
        double[] expectedLoss = new double[100];
        double[] previous = null;
        for (int t = 0; t < 100; t++) {
            expectedLoss[t] = replay.loss();
            replay.lossAndGradient(replay.nextBatch(10));
            double[] g = replay.gradient();
            expectedNorm[t] = Math.sqrt(Arrays.stream(g).map(v -> v * v).sum());
            if (previous != null) {
                double dot = 0;
                for (int j = 0; j < g.length; j++) {
                    dot += g[j] * previous[j];
                }
                expectedCos[t] = dot / (expectedNorm[t] * expectedNorm[t - 1]);
            }
            previous = g;
            replay.step(0.05);
        }

        List<ConsumerRecord<String, byte[]>> iterations = TopicContents.read(broker.bootstrapServers(), Topics.ITERATIONS)
                .stream().filter(r -> r.key().equals("least-squares-r00000")).toList();
        assertEquals(100, iterations.size());
        for (int t = 0; t < 100; t++) {
            IterationMetrics record = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, iterations.get(t).value());
            assertEquals(t, record.getIteration(), "in order in one partition");
            assertEquals(expectedLoss[t], record.getLoss(), 0.0);
            assertEquals(expectedNorm[t], record.getSgNorm(), 1e-12 * expectedNorm[t]);
            if (t == 0) {
                assertNull(record.getSgCosPrev());
            } else {
                assertEquals(expectedCos[t], record.getSgCosPrev(), 1e-12);
            }
        }
        assertTrue(expectedLoss[99] < expectedLoss[0] / 10, "the example trains: " + expectedLoss[0] + " -> " + expectedLoss[99]);

        Map<String, byte[]> runs = new HashMap<>();
        TopicContents.read(broker.bootstrapServers(), Topics.RUNS).forEach(r -> runs.put(r.key(), r.value()));
        RunStarted started = assertInstanceOf(RunStarted.class,
                TelemetrySerdes.runs().deserialize(Topics.RUNS, runs.get(Topics.runStartedKey("least-squares-r00000"))));
        assertEquals(21, started.getModel().getParameterCount(), "20 weights and a bias");
        assertEquals(List.of(20, 1), started.getModel().getLayers());
        RunFinished finished = assertInstanceOf(RunFinished.class,
                TelemetrySerdes.runs().deserialize(Topics.RUNS, runs.get(Topics.runFinishedKey("least-squares-r00000"))));
        assertEquals(RunStatus.COMPLETED, finished.getStatus());
        assertEquals(100, finished.getIterations());
        assertEquals(0, finished.getDroppedRecords());

        // python3-avro reads the same bytes with nothing but the .avsc files
        JsonNode last = PythonAvro.decode("IterationMetrics", iterations.get(99).value(), dir);
        assertEquals(99, last.get("iteration").asInt());
        assertEquals(expectedNorm[99], last.get("sgNorm").asDouble(), 1e-12 * expectedNorm[99]);
        assertEquals(expectedCos[99], last.get("sgCosPrev").asDouble(), 1e-12);
        JsonNode startedInPython = PythonAvro.decode("RunStarted", runs.get(Topics.runStartedKey("least-squares-r00000")), dir);
        assertEquals(21, startedInPython.get("model").get("parameterCount").asLong());
        assertEquals("sgd", startedInPython.get("optimizer").get("name").asText());
    }

    @Test
    void theReadmeShowsTheExampleVerbatim() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/sgdscope/client/ReadmeExample.java"));
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        String code = source.substring(source.indexOf("// README begin\n") + "// README begin\n".length(),
                source.indexOf("        // README end"));
        String dedented = code.lines().map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .reduce("", (a, b) -> a + b + "\n");
        assertTrue(readme.contains(dedented), "README.md shows the example of ReadmeExample.java:\n" + dedented);
    }

    @Test
    void aGroupOfMoreThanAThousandRunsGoesOutInFramesOfAtMostAThousandUnderFixedKeys() throws Exception {
        int n = 1001;
        List<RunDescription> runs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            runs.add(ClientTestRuns.run("group", i, 2));
        }
        try (SgdscopeClient client = SgdscopeClient.connect(KafkaClientSettings.of(broker.bootstrapServers()))) {
            RunGroupPublisher group = client.startRuns(runs);
            double[][] thetas = new double[n][];
            double[][] gradients = new double[n][];
            List<Step> steps = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                steps.clear();
                for (int i = 0; i < n; i++) {
                    thetas[i] = new double[] {i, t};
                    gradients[i] = new double[] {3 * (t + 1), 4};        // ||g|| = 5 at t = 0
                    steps.add(Step.of(i, i + 0.5, 0.1, 5));
                }
                group.iteration(steps, thetas, gradients);
                if (t == 0) {
                    group.finish(1000, RunStatus.DIVERGED, null, "test");   // the second slice's only run ends
                }
            }
            group.close();
        }
        List<Frame> frames = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : TopicContents.read(broker.bootstrapServers(), Topics.ITERATIONS)) {
            if (record.key().startsWith("group-")) {
                frames.add(TelemetrySerdes.frames().deserialize(Topics.ITERATIONS, record.value()));
                keys.add(record.key());
            }
        }
        assertEquals(3, frames.size(), "t = 0: two slices; t = 1: the first slice only");
        assertTrue(keys.containsAll(List.of("group-r00000", "group-r01000")));
        for (int f = 0; f < frames.size(); f++) {
            Frame frame = frames.get(f);
            assertEquals(keys.get(f), frame.runId(0), "a frame's key is its slice's first run");
            assertTrue(frame.size() <= RunGroupPublisher.MAX_FRAME_RUNS);
            IterationMetrics row = frame.row(0);
            assertEquals(Math.hypot(3 * (frame.iteration() + 1), 4), row.getSgNorm(), 1e-15);
            assertEquals(frame.iteration() == 0 ? null : (3.0 * 6 + 16) / (5 * Math.hypot(6, 4)), row.getSgCosPrev());
        }
        Frame first = frames.stream().filter(f -> f.iteration() == 0 && f.size() == 1000).findFirst().orElseThrow();
        JsonNode decoded = PythonAvro.decode("IterationFrame",
                TelemetrySerdes.frames().serialize(Topics.ITERATIONS, first), dir);
        assertEquals(1000, decoded.get("runIds").size());
        assertEquals("group-r00999", decoded.get("runIds").get(999).asText());

        Map<String, RunStarted> started = new HashMap<>();
        Map<String, RunFinished> finished = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : TopicContents.read(broker.bootstrapServers(), Topics.RUNS)) {
            Object value = TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value());
            if (value instanceof RunStarted s && s.getExperimentId().equals("group")) {
                started.put(s.getRunId(), s);
            } else if (value instanceof RunFinished e && e.getExperimentId().equals("group")) {
                finished.put(e.getRunId(), e);
            }
        }
        assertEquals(n, started.size());
        assertEquals(n, finished.size());
        assertEquals("group-r00000", started.get("group-r00999").getFrameKey());
        assertEquals("group-r01000", started.get("group-r01000").getFrameKey());
        assertEquals(RunStatus.DIVERGED, finished.get("group-r01000").getStatus());
        assertEquals(1, finished.get("group-r01000").getIterations());
        assertEquals(2, finished.get("group-r00000").getIterations());
    }

    @Test
    void iterationsThatDoNotFitTheBufferAreDroppedAndCountedWhileTheBrokerIsAway() throws Exception {
        EmbeddedKafkaBroker own = EmbeddedKafkaBroker.start(BrokerSettings.of(dir.resolve("broker")));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, own.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(Topics.RUNS, 1, (short) 1), new NewTopic(Topics.ITERATIONS, 1, (short) 1)))
                    .all().get();
        }
        // A 16 KiB buffer, and send() waits at most 10 ms for room in it.
        KafkaClientSettings settings = new KafkaClientSettings(own.bootstrapServers(), Map.of(
                ProducerConfig.BUFFER_MEMORY_CONFIG, "16384", ProducerConfig.BATCH_SIZE_CONFIG, "4096",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, "10", ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"));
        SgdscopeClient client = SgdscopeClient.connect(settings);
        KafkaTelemetryPublisher publisher = (KafkaTelemetryPublisher) client.sink();
        RunPublisher run = client.startRun(ClientTestRuns.run("drops", 0, 1000));
        client.flush();                                                   // RunStarted is on the broker
        own.close();                                                      // then the broker goes away
        int iterations = 2000;
        double[] theta = new double[1000];
        double[] gradient = new double[1000];
        Arrays.fill(gradient, 1.0);
        for (int t = 0; t < iterations; t++) {
            run.iteration(Step.of(1, 1, 0.1, 5), theta, gradient);       // about 100 bytes each
        }
        long dropped = client.droppedRecords();
        assertEquals(dropped, run.droppedRecords(), "counted against the run, as its RunFinished will say");
        assertEquals(iterations + 1, publisher.sentRecords() + dropped, "every record was either taken or dropped");
        assertTrue(dropped >= iterations - 16384 / 60, "at most a 16 KiB buffer of records was taken: " + dropped);
        client.close(Duration.ZERO);
    }
}
