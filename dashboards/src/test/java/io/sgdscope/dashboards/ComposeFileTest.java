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
        Process process = new ProcessBuilder("docker-compose", "-f", "docker-compose.yml", "config", "-q")
                .directory(Path.of("..").toAbsolutePath().normalize().toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, process.exitValue(), "docker-compose config -q: " + output);
    }
}
