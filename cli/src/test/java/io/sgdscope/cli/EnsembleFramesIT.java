package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static io.sgdscope.cli.TopicToEnd.readToEnd;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sgdscope demo} publishes its iterations as frames (with {@code --engine ensemble}, still accepted), and an independent Avro reader (Debian's
 * python3-avro, given nothing but the .avsc files) finds on sgd.iterations every (run, iteration) of the experiment
 * exactly once, each run's under the frame key its RunStarted names. .ci/run installs python3-avro; without it this
 * test fails.
 */
class EnsembleFramesIT {

    private static final String PYTHON = "/usr/bin/python3";
    private static final String EXPERIMENT = "frames-demo";
    private static final int RUNS = 300;
    private static final int ITERATIONS = 30;

    @TempDir
    Path dir;

    @Test
    void everyRunIterationOfAnEnsembleDemoIsOnTheTopicExactlyOnceAsAnIndependentAvroReaderSeesIt() throws Exception {
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--runs", "" + RUNS, "--iterations", "" + ITERATIONS,
                "--experiment", EXPERIMENT, "--metrics-port", "0", "--workers", "2", "--hold", "--engine", "ensemble",
                "--moments-every", "0", "--spectrum-every", "0")) {
            String bootstrap = demo.awaitLine(Pattern.compile("^Kafka broker: (\\S+)"), Duration.ofSeconds(60)).group(1);
            demo.awaitLine(Pattern.compile("^Holding the broker"), Duration.ofSeconds(300));

            Path dump = dir.resolve("iterations.bin");
            int messages;
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(dump))) {
                messages = readToEnd(bootstrap, Topics.ITERATIONS, record -> write(out, record));
            }
            Map<String, String> frameKeys = new HashMap<>();
            readToEnd(bootstrap, Topics.RUNS, record -> {
                if (TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value()) instanceof RunStarted started) {
                    frameKeys.put(started.getRunId(), started.getFrameKey());
                }
            });

            JsonNode read = readWithPython(dump);
            assertEquals(messages, read.get("messages").asInt());
            assertEquals(messages, read.get("frames").asInt(), "the ensemble publishes frames only");
            assertTrue(messages < RUNS * ITERATIONS / 10, messages + " messages for " + RUNS * ITERATIONS + " run-iterations");
            assertEquals("[\"" + EXPERIMENT + "\"]", read.get("experiments").toString());
            JsonNode iterations = read.get("iterations");
            assertEquals(RUNS, iterations.size(), "runs on the topic");
            List<Integer> everyIteration = IntStream.range(0, ITERATIONS).boxed().toList();
            for (int r = 0; r < RUNS; r++) {
                String runId = String.format("%s-r%05d", EXPERIMENT, r);
                List<Integer> of = new ArrayList<>();
                iterations.get(runId).forEach(t -> of.add(t.asInt()));
                assertEquals(everyIteration, of, runId + ": every iteration once, in order");
                String key = frameKeys.get(runId);
                assertTrue(key != null, runId + ": its RunStarted names no frame key");
                assertEquals("[\"" + key + "\"]", read.get("keys").get(runId).toString(),
                        runId + ": its frames all come under the key its RunStarted names");
            }
            demo.terminate();
            demo.awaitExit(Duration.ofSeconds(60));
        }
    }

    private static void write(DataOutputStream out, ConsumerRecord<String, byte[]> record) {
        try {
            byte[] key = record.key().getBytes(StandardCharsets.UTF_8);
            out.writeInt(key.length);
            out.write(key);
            out.writeInt(record.value().length);
            out.write(record.value());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode readWithPython(Path dump) throws Exception {
        Path avro = SourceTree.root().resolve("schemas/src/main/avro");
        Process process = new ProcessBuilder(PYTHON, "src/test/python/read_iterations.py", dump.toString(),
                avro.resolve("IterationFrame.avsc").toString(), avro.resolve("IterationMetrics.avsc").toString())
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError("python3-avro could not read sgd.iterations (is Debian's python3-avro installed? "
                    + ".ci/run installs it): " + err);
        }
        return new ObjectMapper().readTree(out);
    }
}
