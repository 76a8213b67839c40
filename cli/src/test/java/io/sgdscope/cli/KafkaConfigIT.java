package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * bootstrap.servers in a --kafka-config file is where every command connects, with no --bootstrap-servers: the
 * trainer's reachability check as well as its producer, and the streams apps. Through the real jar, on a real broker.
 */
class KafkaConfigIT {

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(1, Topics.all(), Topics.Spec::name,
            Topics.Spec::config);

    @TempDir
    Path dir;

    private Path clientProperties() throws Exception {
        return Files.writeString(dir.resolve("client.properties"),
                "# where the cluster is, and nothing else\nbootstrap.servers=" + broker.bootstrapServers() + "\n");
    }

    @Test
    void trainConnectsWhereTheFileSays() throws Exception {
        try (SgdscopeProcess train = SgdscopeProcess.start("train", "--kafka-config", clientProperties().toString(),
                "--no-create-topics", "--experiment", "it-config", "--runs", "1", "--iterations", "3", "--workers", "1",
                "--metrics-port", "-1", "--moments-every", "0", "--spectrum-every", "0")) {
            assertEquals(0, train.awaitExit(Duration.ofSeconds(120)), "stderr: " + train.stderr());
            assertTrue(train.stdout().stream().anyMatch(l -> l.startsWith("Training experiment it-config: ")
                    && l.endsWith(" -> " + broker.bootstrapServers())), String.join("\n", train.stdout()));
            assertTrue(train.stdout().stream().anyMatch(l -> l.startsWith("Runs: 1 completed")), String.join("\n", train.stdout()));
        }
    }

    @Test
    void streamsConnectsWhereTheFileSays() throws Exception {
        try (SgdscopeProcess streams = SgdscopeProcess.start("streams", "--kafka-config", clientProperties().toString(),
                "--no-create-topics", "--metrics-port", "0", "--state-dir", dir.resolve("state").toString(),
                "--application-id", "it-config")) {
            String line = streams.awaitLine(Pattern.compile("^Streams apps .* on (\\S+), state in .*"), Duration.ofSeconds(90))
                    .group(1);
            assertEquals(broker.bootstrapServers(), line);
        }
    }
}
