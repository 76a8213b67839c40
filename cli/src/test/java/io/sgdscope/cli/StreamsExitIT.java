package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sgdscope streams} as deployments run it: when an app fails it does not linger, it exits 1 with one
 * line naming the app and why, so that a supervisor (compose's restart policy) notices and restarts it.
 */
class StreamsExitIT {

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withoutTopics();

    @TempDir
    Path dir;

    @Test
    void streamsExitsWithOneAndOneLineNamingTheAppOnceAnAppFails() throws Exception {
        try (SgdscopeProcess streams = SgdscopeProcess.start("streams", "--bootstrap-servers", broker.bootstrapServers(),
                "--metrics-port", "0", "--state-dir", dir.resolve("streams").toString(), "--partitions", "2")) {
            URI metrics = URI.create(streams.awaitLine(Pattern.compile("^Metrics: (http://\\S+)"), Duration.ofSeconds(60)).group(1));
            awaitReady(metrics.resolve("/ready"), Duration.ofSeconds(60));

            // A fault no record handler can skip: an input topic disappears under the running apps.
            broker.admin().deleteTopics(List.of(Topics.ITERATIONS)).all().get();

            assertEquals(Sgdscope.EXIT_RUNTIME_FAILURE, streams.awaitExit(Duration.ofSeconds(60)), String.join("\n", streams.stderr()));
            List<String> errors = streams.stderr().stream().filter(line -> line.startsWith("sgdscope: error: ")).toList();
            assertEquals(1, errors.size(), String.join("\n", streams.stderr()));
            assertTrue(errors.get(0).matches("sgdscope: error: (quantiles|deviation) app sgdscope-(quantiles|deviation) is "
                    + "(PENDING_)?ERROR: .+; stopping the streams apps \\(--verbose shows details\\)"), errors.get(0));
        }
    }

    private static void awaitReady(URI ready, Duration timeout) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not ready within " + timeout);
            }
            Thread.sleep(200);
        }
    }
}
