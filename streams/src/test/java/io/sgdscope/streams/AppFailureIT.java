package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.CrossRunBand;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams.State;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app that fails on a real (embedded KRaft) broker says so: {@link StreamsApps#failure()} names it and
 * why, and {@code /health} answers 503.
 */
class AppFailureIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    static Path work;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @Test
    void anAppInErrorFailsHealthAndSaysWhichAppAndWhy() throws Exception {
        StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("error"))
                .withApplicationId("error").withMetrics("127.0.0.1", 0).withCommitInterval(Duration.ofMillis(200));
        try (StreamsApps apps = StreamsApps.start(settings, QuantilesSettings.defaults(), DeviationSettings.defaults())) {
            assertTrue(apps.awaitRunning(PATIENCE), "running within " + PATIENCE);
            URI health = URI.create("http://127.0.0.1:" + apps.metricsPort() + "/health");
            assertEquals(200, get(health).statusCode());
            assertEquals(Optional.empty(), apps.failure());

            // A fault no record handler can skip: an input topic disappears under the running apps.
            broker.admin().deleteTopics(List.of(Topics.ITERATIONS)).all().get();
            await(() -> apps.failure().isPresent(), "an app to fail");

            String failure = apps.failure().orElseThrow();
            assertTrue(failure.matches("(quantiles|deviation) app error-(quantiles|deviation) is (PENDING_)?ERROR.*"), failure);
            assertEquals(1, failure.lines().count(), failure);
            HttpResponse<String> answer = get(health);
            assertEquals(503, answer.statusCode());
            assertTrue(answer.body().startsWith("DOWN "), answer.body());
        }
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + PATIENCE + " for " + what);
            }
            Thread.sleep(100);
        }
    }
}
