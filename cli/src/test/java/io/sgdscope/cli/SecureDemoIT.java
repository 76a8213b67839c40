package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.Topics;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo --secure}: the demo's own trainer and streams apps (exactly-once) work as the users trainer and streams
 * with only their ACLs, and the files it writes let other clients in: a Java consumer and kcat (librdkafka) read as
 * viewer with the CA file, while a wrong password is refused.
 */
class SecureDemoIT {

    private static final int RUNS = 4;
    private static final int ITERATIONS = 30;
    /** Runs per block: the trainer publishes one IterationFrame per block and iteration, keyed by its first run id. */
    private static final int BLOCK = 2;

    @TempDir
    Path dir;

    @Test
    void theSecuredDemoRunsAsItsRolesAndItsFilesLetJavaAndKcatIn() throws Exception {
        Path work = dir.resolve("work");
        try (SgdscopeProcess demo = SgdscopeProcess.start("demo", "--secure", "--runs", "" + RUNS, "--iterations", "" + ITERATIONS,
                "--experiment", "secured", "--metrics-port", "0", "--workers", "2", "--ensemble-block", "" + BLOCK, "--work-dir", work.toString(), "--hold")) {
            String bootstrap = demo.awaitLine(Pattern.compile("^Kafka broker: (\\S+)"), Duration.ofSeconds(90)).group(1);
            Path security = work.resolve("security");
            for (String file : List.of("ca.pem", "truststore.p12", "client-admin.properties", "client-trainer.properties",
                    "client-streams.properties", "client-viewer.properties")) {
                demo.awaitLine(Pattern.compile(Pattern.quote(security.resolve(file).toString()) + "$"), Duration.ofSeconds(30));
            }
            demo.awaitLine(Pattern.compile("^Holding the broker"), Duration.ofSeconds(180));
            List<String> out = demo.stdout();
            // The streams apps, logged in as streams, counted every run to the last iteration.
            assertTrue(out.stream().anyMatch(l -> l.startsWith("Loss across " + RUNS + " runs at iteration " + (ITERATIONS - 1)
                    + " (streams app)")), String.join("\n", out));
            assertTrue(out.stream().anyMatch(l -> l.startsWith("Telemetry: ") && l.contains(" 0 dropped") && l.endsWith(" 0 failed")),
                    String.join("\n", out));

            Map<String, String> viewer = KafkaConnection.readClientProperties(security.resolve("client-viewer.properties"));
            assertTrue(countCommitted(bootstrap, viewer, Topics.QUANTILES) > 0, "the viewer reads the quantiles");
            countCommitted(bootstrap, viewer, Topics.ALERTS); // readable (possibly empty): no authorization error
            assertEquals(RUNS / BLOCK * ITERATIONS, countCommitted(bootstrap, viewer, Topics.ITERATIONS), "one frame per block and iteration");

            String password = password(viewer.get("sasl.jaas.config"));
            Kcat read = kcat(bootstrap, security.resolve("ca.pem"), "viewer", password);
            assertEquals(0, read.exitCode, read.stderr);
            Map<String, Long> framesByKey = read.lines.stream().collect(Collectors.groupingBy(key -> key, java.util.TreeMap::new,
                    Collectors.counting()));
            assertEquals(Map.of("secured-r00000", (long) ITERATIONS, "secured-r00002", (long) ITERATIONS), framesByKey,
                    read.stderr);

            Kcat refused = kcat(bootstrap, security.resolve("ca.pem"), "viewer", "not-" + password);
            assertNotEquals(0, refused.exitCode);
            assertTrue(refused.lines.isEmpty(), refused.lines.toString());
            assertTrue(refused.stderr.contains("ERROR"), refused.stderr);

            demo.terminate();
            demo.awaitExit(Duration.ofSeconds(60));
        }
    }

    /** Records of a topic, read_committed from the beginning, without a consumer group. */
    private static int countCommitted(String bootstrap, Map<String, String> login, String topic) {
        Map<String, Object> config = new HashMap<>(login);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            int count = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                count += consumer.poll(Duration.ofMillis(200)).count();
            }
            return count;
        }
    }

    private static String password(String jaas) {
        Matcher matcher = Pattern.compile("password=\"([^\"]+)\"").matcher(jaas);
        assertTrue(matcher.find(), jaas);
        return matcher.group(1);
    }

    record Kcat(int exitCode, List<String> lines, String stderr) {}

    /**
     * kcat consuming sgd.iterations to its end, printing each record's key, with the settings README.md gives: PLAIN
     * inside TLS, since Debian 12's kcat links librdkafka 2.0.2, whose SCRAM Kafka 4 refuses (librdkafka#4895).
     */
    private static Kcat kcat(String bootstrap, Path ca, String user, String password) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-C", "-b", bootstrap, "-t", Topics.ITERATIONS, "-o", "beginning",
                "-e", "-q", "-f", "%k\\n",
                "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
                "-X", "sasl.username=" + user, "-X", "sasl.password=" + password, "-X", "ssl.ca.location=" + ca));
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is not installed (Debian package kcat; .ci/run installs it)", e);
        }
        process.getOutputStream().close();
        // kcat -e exits at the end of every partition; on a refused login it keeps retrying: bound it.
        boolean ended = process.waitFor(30, TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly().waitFor();
        }
        List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.isEmpty()).toList();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Kcat(ended ? process.exitValue() : -1, lines, stderr);
    }
}
