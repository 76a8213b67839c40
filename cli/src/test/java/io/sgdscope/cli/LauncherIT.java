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
 * SGDSCOPE_JAVA_OPTS comes after them, so a user's option overrides the file's; OpenBLAS's kernels are named for
 * the CPU when OpenBLAS falls back to its generic ones (README.md, "Speed on newer CPUs").
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

    private static final Path KERNELS = TOP.resolve("cli/target/openblas-kernels");

    /** Runs the launcher with {@code --version} (OPENBLAS_CORETYPE as given, or unset); its output. */
    private static String version(String coreType) throws Exception {
        String output = output(new ProcessBuilder(TOP.resolve("sgdscope").toString(), "--version"), coreType,
                "the launcher");
        assertTrue(output.startsWith("sgdscope "), output);
        return output;
    }

    /** The kernels OpenBLAS reports choosing when loaded with OPENBLAS_CORETYPE as given (or unset). */
    private static String kernels(String coreType) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", TOP.resolve("cli/target/sgdscope.jar").toString(),
                OpenBlasProbe.class.getName());
        builder.environment().put("OPENBLAS_VERBOSE", "2");
        String output = output(builder, coreType, "the probe");
        return output.lines().filter(l -> l.startsWith("Core: ")).map(l -> l.substring(6).trim()).findFirst()
                .orElseThrow(() -> new AssertionError("OpenBLAS named no kernels: " + output));
    }

    /** Runs a command with OPENBLAS_CORETYPE as given (or unset) to a zero exit; its output and error output. */
    private static String output(ProcessBuilder builder, String coreType, String what) throws Exception {
        builder.redirectErrorStream(true).environment().remove("OPENBLAS_CORETYPE");
        if (coreType != null) {
            builder.environment().put("OPENBLAS_CORETYPE", coreType);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), what + " ended");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    @Test
    void theLauncherNamesOpenBlasKernelsForTheCpuWhenOpenBlasFallsBackToItsGenericOnes() throws Exception {
        Files.deleteIfExists(KERNELS);
        version(null);
        List<String> cached = Files.readAllLines(KERNELS);
        assertEquals(3, cached.size(), "the CPU's key, the kernels OpenBLAS chose, the ones named: " + cached);
        String detected = kernels(null);
        assertEquals(detected, cached.get(1), "what OpenBLAS chose on its own");
        String flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags"))
                .findFirst().orElse("") + " ";
        String expected = !detected.equals("Prescott") ? ""
                : flags.contains(" avx512f ") ? "SkylakeX" : flags.contains(" avx2 ") ? "Haswell" : "";
        assertEquals(expected, cached.get(2), "named for " + detected + " on a CPU with " + flags);
        if (!expected.isEmpty()) {
            assertEquals(expected, kernels(expected), "this OpenBLAS takes the name");
        }
        long written = Files.getLastModifiedTime(KERNELS).toMillis();
        version(null);
        assertEquals(written, Files.getLastModifiedTime(KERNELS).toMillis(), "the next command reads the cache");

        Files.delete(KERNELS);
        version("Haswell");
        assertFalse(Files.exists(KERNELS), "a user's OPENBLAS_CORETYPE is left alone: no probe, no cache");
        version(null);                                                  // as it was, for the tests after this one
    }
}
