package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml is valid for Debian's docker-compose (1.29, `docker-compose config -q`, offline).
 * No Docker engine runs here: this checks the file, it does not start the services.
 */
class ComposeFileTest {

    @Test
    void theComposeFileIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "config", "-q");
    }

    @Test
    void theGpuProfileIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "--profile", "gpu", "config", "-q");
    }

    @Test
    void theThreeBrokerOverrideIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "-f", "docker-compose.kafka3.yml", "config", "-q");
    }

    @Test
    void theTrainerServicesRunWithTheLaunchersTrainOptions() throws Exception {
        Path top = Path.of("..").toAbsolutePath().normalize();
        String launcherOptions = java.nio.file.Files.readAllLines(top.resolve("cli/jvm-options/train")).stream()
                .map(line -> line.replaceAll("#.*", "").trim()).filter(line -> !line.isEmpty())
                .collect(java.util.stream.Collectors.joining(" "));
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("JDK_JAVA_OPTIONS: \"([^\"]*)\"")
                .matcher(java.nio.file.Files.readString(top.resolve("docker-compose.yml")));
        int services = 0;
        while (matcher.find()) {
            assertEquals(launcherOptions, matcher.group(1), "docker-compose.yml's JDK_JAVA_OPTIONS");
            services++;
        }
        assertEquals(2, services, "trainer and trainer-gpu set JDK_JAVA_OPTIONS");
    }

    private static void assertValid(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("docker-compose"));
        command.addAll(java.util.List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(Path.of("..").toAbsolutePath().normalize().toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
    }
}
