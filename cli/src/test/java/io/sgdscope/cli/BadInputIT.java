package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets one clear line on stderr and a non-zero exit code: 2 for bad arguments, 1 for runtime
 * failures, within 30 s, with no stack trace unless --verbose. Run through the real jar so that
 * everything a user would see on stderr (logging included) counts.
 */
class BadInputIT {

    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final String UNREACHABLE = "127.0.0.1:1";

    @Test
    void aNegativeLearningRateIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: learning rate must be > 0, got -0.1 (see 'sgdscope train --help')",
                "train", "--lr", "-0.1");
    }

    @Test
    void aZeroLearningRateIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope demo: learning rate must be > 0, got 0.0 (see 'sgdscope demo --help')",
                "demo", "--lr=0");
    }

    @Test
    void aBatchLargerThanTheTrainingSetIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope demo: batch size 500 is larger than the training set (n = 100) (see 'sgdscope demo --help')",
                "demo", "--batch-size", "500");
    }

    @Test
    void anUnknownDatasetIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: unknown dataset 'imagenet' (known: gauss-k, mnist, cifar10) (see 'sgdscope train --help')",
                "train", "--dataset", "imagenet");
    }

    @Test
    void aNegativeEnsembleBlockIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: ensemble block must be >= 1 runs, or 0 for automatic, got -1 "
                + "(see 'sgdscope train --help')",
                "train", "--ensemble-block", "-1");
    }

    @Test
    void theRetiredPerRunEngineIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: --engine per-run was retired: sgdscope has one engine, ensemble (a block of one "
                + "run gives the per-run engine's records); drop --engine (see 'sgdscope train --help')",
                "train", "--engine", "per-run");
    }

    @Test
    void aMissingKafkaConfigFileIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: cannot read --kafka-config /nonexistent/client.properties: no such file "
                + "(see 'sgdscope train --help')", "train", "--kafka-config", "/nonexistent/client.properties");
    }

    @Test
    void aNumberThatIsNotANumberIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope demo: Invalid value for option '--runs': 'many' is not an int (see 'sgdscope demo --help')",
                "demo", "--runs", "many");
    }

    @Test
    void unreachableBootstrapServersAreARuntimeFailureWithinThirtySeconds() throws Exception {
        String line = assertOneLine(1, null, "train", "--bootstrap-servers", "127.0.0.1:1", "--runs", "1");
        assertTrue(line.startsWith("sgdscope: error: cannot reach Kafka at 127.0.0.1:1: no broker answered in 3 attempts"), line);
    }

    // The cases below give an unreachable broker: had Kafka been contacted, the exit would be 1 after 15 s, not 2.

    @Test
    void resumingAnExperimentWithoutCheckpointsIsABadArgumentBeforeKafka() throws Exception {
        Path empty = Files.createTempDirectory("sgdscope-no-checkpoints");
        try {
            assertOneLine(2, "sgdscope train: --resume: experiment never-started has no checkpoint in "
                    + empty.resolve("never-started") + " (nothing to continue; without --resume it starts afresh) (see "
                    + "'sgdscope train --help')", "train", "--bootstrap-servers", UNREACHABLE, "--experiment", "never-started",
                    "--checkpoint-dir", empty.toString(), "--resume");
        } finally {
            Files.delete(empty);
        }
    }

    @Test
    void aKafkaPropertyTheClientsRefuseIsABadArgument() throws Exception {
        Path config = Files.createTempFile("sgdscope-client", ".properties");
        try {
            Files.writeString(config, "bootstrap.servers=" + UNREACHABLE + "\nlinger.ms=soon\n");
            assertOneLine(2, "sgdscope train: --kafka-config " + config + ": Invalid value soon for configuration linger.ms: "
                    + "Not a number of type LONG (see 'sgdscope train --help')", "train", "--kafka-config", config.toString());
            assertOneLine(2, "sgdscope streams: --kafka-config " + config + ": Invalid value soon for configuration "
                    + "linger.ms: Not a number of type LONG (see 'sgdscope streams --help')", "streams", "--kafka-config",
                    config.toString(), "--metrics-port", "0");
        } finally {
            Files.delete(config);
        }
    }

    @Test
    void sizesThatCannotBeAllocatedAreABadArgument() throws Exception {
        String samples = assertOneLine(2, null, "train", "--bootstrap-servers", UNREACHABLE, "--samples", "2000000000");
        assertTrue(samples.startsWith("sgdscope train: these settings need at least "), samples);
        String layers = assertOneLine(2, null, "train", "--bootstrap-servers", UNREACHABLE, "--layers", "50,100000,100000,10");
        assertTrue(layers.startsWith("sgdscope train: layers [50, 100000, 100000, 10] have p = 10,006,200,010 parameters"),
                layers);
    }

    @Test
    void aTakenMetricsPortIsABadArgumentBeforeKafka() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String line = assertOneLine(2, null, "train", "--bootstrap-servers", UNREACHABLE, "--runs", "1",
                    "--metrics-port", "" + taken.getLocalPort());
            assertTrue(line.startsWith("sgdscope train: --metrics-port " + taken.getLocalPort() + " on 127.0.0.1 is taken"),
                    line);
        }
    }

    @Test
    void aDotDotExperimentIdIsABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: --experiment: experiment id must not be '..' (it names a folder) (see 'sgdscope train --help')",
                "train", "--bootstrap-servers", UNREACHABLE, "--experiment", "..");
    }

    @Test
    void verboseShowsTheStackTrace() throws Exception {
        try (SgdscopeProcess process = SgdscopeProcess.start("--verbose", "train", "--batch-size", "500")) {
            assertEquals(2, process.awaitExit(LIMIT));
            assertTrue(process.stderr().stream().anyMatch(l -> l.startsWith("\tat ")), String.join("\n", process.stderr()));
            assertEquals("sgdscope train: batch size 500 is larger than the training set (n = 100) (see 'sgdscope train --help')",
                    process.stderr().get(process.stderr().size() - 1));
        }
    }

    /** Runs sgdscope with the arguments; asserts the exit code and that stderr is exactly one line (equal to expected if given). */
    private static String assertOneLine(int exitCode, String expected, String... args) throws Exception {
        long start = System.nanoTime();
        try (SgdscopeProcess process = SgdscopeProcess.start(args)) {
            int code = process.awaitExit(LIMIT);
            List<String> err = process.stderr();
            assertEquals(exitCode, code, "exit code; stderr: " + err);
            assertEquals(1, err.size(), "exactly one line on stderr: " + err);
            if (expected != null) {
                assertEquals(expected, err.get(0));
            }
            assertTrue(System.nanoTime() - start < LIMIT.toNanos());
            return err.get(0);
        }
    }
}
