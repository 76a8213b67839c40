package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** An app whose client still says RUNNING but has no stream thread left processes nothing: it counts as failed. */
class NoStreamThreadIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    static Path work;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @Test
    void anAppRunningWithoutALiveStreamThreadFailsHealthAndSaysSo() throws Exception {
        StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("threads"))
                .withApplicationId("threads").withMetrics("127.0.0.1", 0);
        try (QuantilesApp app = QuantilesApp.start(settings, QuantilesSettings.defaults())) {
            assertTrue(app.awaitRunning(PATIENCE), "running within " + PATIENCE);
            URI health = URI.create("http://127.0.0.1:" + app.metricsPort() + "/health");
            assertEquals(200, get(health).statusCode());
            assertNull(app.failure());

            assertTrue(app.runner().kafkaStreams().removeStreamThread(PATIENCE).isPresent(), "the only thread removed");
            assertEquals(State.RUNNING, app.state(), "Kafka Streams itself still says RUNNING");
            assertEquals("quantiles app threads-quantiles is RUNNING with no live stream thread", app.failure());
            HttpResponse<String> answer = get(health);
            assertEquals(503, answer.statusCode());
            assertEquals("DOWN quantiles app threads-quantiles is RUNNING with no live stream thread\n", answer.body());
        }
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }
}
