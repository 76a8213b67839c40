package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** How {@code train} ends when its runs do, through the real jar against a real broker. */
class TrainOutcomeIT {

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(1, Topics.all(), Topics.Spec::name,
            Topics.Spec::config);

    @TempDir
    Path dir;

    @Test
    void trainExitsOneWhenARunFailed() throws Exception {
        // A snapshot folder that is a file: writing the snapshot at t = 0 throws inside training, the run ends FAILED.
        Path notAFolder = Files.writeString(dir.resolve("not-a-folder"), "");
        try (SgdscopeProcess train = SgdscopeProcess.start("train", "--bootstrap-servers", broker.bootstrapServers(),
                "--no-create-topics", "--experiment", "it-failed", "--runs", "2", "--iterations", "5", "--workers", "1",
                "--metrics-port", "-1", "--moments-every", "0", "--spectrum-every", "0",
                "--snapshot-at", "0", "--snapshot-dir", notAFolder.resolve("snapshots").toString())) {
            assertEquals(1, train.awaitExit(Duration.ofSeconds(120)), "stderr: " + train.stderr());
            assertTrue(train.stdout().stream().anyMatch(l -> l.startsWith("Runs: 0 completed, 0 diverged, 0 cancelled, 2 failed")),
                    String.join("\n", train.stdout()));
            List<String> err = train.stderr();
            assertEquals("sgdscope: error: 2 of 2 runs FAILED (their RunFinished records say why)", err.get(err.size() - 1),
                    String.join("\n", err));
        }
    }
}
