package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Missing or damaged data files end the real command with one line naming the files and exit code 1,
 * before anything else starts (no Kafka is contacted: the bootstrap servers given are unreachable).
 */
class DataFilesIT {

    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aMissingMnistFolderNamesTheFilesExpectedThere() throws Exception {
        Path missing = dir.resolve("mnist");
        List<String> err = runExpectingOneLine("train", "--dataset", "mnist", "--data-dir", missing.toString(),
                "--bootstrap-servers", "127.0.0.1:1");
        assertTrue(err.get(0).startsWith("sgdscope: error: MNIST files missing in " + missing.toAbsolutePath()
                + " (no such folder): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                + "t10k-labels-idx1-ubyte (plain or .gz; put the four standard MNIST IDX files there"), err.get(0));
    }

    @Test
    void aTruncatedImageFileIsNamedBeforeKafkaIsContacted() throws Exception {
        Files.write(dir.resolve("train-images-idx3-ubyte"), ByteBuffer.allocate(16 + 784)
                .put(new byte[] {0, 0, 8, 3}).putInt(2).putInt(28).putInt(28).array());       // 2 images announced, 1 there
        Files.write(dir.resolve("train-labels-idx1-ubyte"), ByteBuffer.allocate(10).put(new byte[] {0, 0, 8, 1}).putInt(2)
                .put(new byte[] {3, 4}).array());
        List<String> err = runExpectingOneLine("train", "--dataset", "mnist", "--data-dir", dir.toString(), "--no-test-set",
                "--batch-size", "1", "--bootstrap-servers", "127.0.0.1:1");
        assertEquals("sgdscope: error: train-images-idx3-ubyte is truncated: it ends inside data of dimensions [2, 28, 28] "
                + "(1568 bytes expected there) (--verbose shows details)", err.get(0));
    }

    private static List<String> runExpectingOneLine(String... args) throws Exception {
        try (SgdscopeProcess process = SgdscopeProcess.start(args)) {
            int code = process.awaitExit(LIMIT);
            List<String> err = process.stderr();
            assertEquals(1, code, "exit code; stderr: " + err + "; stdout: " + process.stdout());
            assertEquals(1, err.size(), "exactly one line on stderr: " + err);
            return err;
        }
    }
}
