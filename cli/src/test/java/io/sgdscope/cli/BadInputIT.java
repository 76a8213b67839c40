package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void curvatureProbesOnTheEnsembleEngineAreABadArgument() throws Exception {
        assertOneLine(2, "sgdscope train: the ensemble engine trains vanilla SGD without curvature probes, snapshots or "
                + "checkpoints; moments-every 10 needs engine per-run (see 'sgdscope train --help')",
                "train", "--engine", "ensemble", "--moments-every", "10");
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
