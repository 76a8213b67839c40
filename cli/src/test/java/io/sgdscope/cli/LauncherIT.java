package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The {@code sgdscope} launcher script (after 'package', so it runs the jar without building): the JVM
 * options of {@code cli/jvm-options/train} reach {@code sgdscope train} and no other command, and
 * SGDSCOPE_JAVA_OPTS comes after them, so a user's option overrides the file's.
 */
class LauncherIT {

    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();

    /** The JVM's effective command-line flags, as -XX:+PrintCommandLineFlags prints them first thing. */
    private static String flags(String userOptions, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(TOP.resolve("sgdscope").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("SGDSCOPE_JAVA_OPTS", "-XX:+PrintCommandLineFlags " + userOptions);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the launcher ended");
        assertEquals(0, process.exitValue(), output);
        String first = output.lines().findFirst().orElse("");
        assertTrue(first.contains("-XX:"), "the first line is the JVM's flags: " + output);
        return first;
    }

    private static List<String> trainOptions() throws Exception {
        return Files.readAllLines(TOP.resolve("cli/jvm-options/train")).stream()
                .map(line -> line.replaceAll("#.*", "").trim()).filter(line -> !line.isEmpty())
                .collect(Collectors.toList());
    }

    @Test
    void trainRunsWithItsOptionsFileAndTheUserCanOverrideThem() throws Exception {
        List<String> options = trainOptions();
        assertFalse(options.isEmpty(), "cli/jvm-options/train lists options");
        String train = flags("", "train", "--help");
        for (String option : options) {
            assertTrue((" " + train + " ").contains(" " + option + " "), option + " in " + train);
        }
        String overridden = flags("-XX:Tier4InvocationThreshold=7000", "train", "--help");
        assertTrue(overridden.contains("-XX:Tier4InvocationThreshold=7000"), overridden);
        assertFalse(overridden.contains("-XX:Tier4InvocationThreshold=50000"), overridden);
    }

    @Test
    void otherCommandsRunWithoutThem() throws Exception {
        String streams = flags("", "streams", "--help");
        for (String option : trainOptions()) {
            assertFalse(streams.contains(option), option + " must not reach streams: " + streams);
        }
    }
}
