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
 * A record that cannot be processed, on a real (embedded KRaft) broker under exactly-once: it goes to the
 * dead-letter topic once, with its reason, and the app goes on, also after a restart.
 */
class PoisonRecordIT {

    private static final String EXPERIMENT = "it-poison";
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    static Path work;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    @Test
    void aPoisonRecordUnderExactlyOnceGoesToTheDeadLetterTopicOnceAndTheAppGoesOnAlsoAfterARestart() throws Exception {
        StreamsSettings settings = StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("poison"))
                .withApplicationId("poison").withCommitInterval(Duration.ofMillis(200));
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, settings.processingGuarantee());
        QuantilesSettings quantiles = QuantilesSettings.defaults().withMetrics(List.of("loss"));
        String hugeId = "p".repeat(70_000); // too long for the repartition record: it used to stop the app

        MeterRegistry first = new SimpleMeterRegistry();
        try (QuantilesApp app = QuantilesApp.start(settings, quantiles, first)) {
            assertTrue(app.awaitRunning(PATIENCE), "running within " + PATIENCE);
            try (KafkaProducer<String, byte[]> producer = producer()) {
                producer.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(hugeId),
                        TelemetrySerdes.runs().serialize(Topics.RUNS, Telemetry.started(EXPERIMENT, hugeId, 0, "sgd", 1150))));
                producer.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey("run-a"),
                        TelemetrySerdes.runs().serialize(Topics.RUNS, Telemetry.started(EXPERIMENT, "run-a", 1, "sgd", 1150))));
                for (int t = 0; t < 5; t++) {
                    producer.send(iteration("run-a", t));
                }
            }
            awaitFrontier(app, 4);
            assertEquals(State.RUNNING, app.state());
            assertEquals(1.0, failed(first, "poison-quantiles"));
        }
        List<ConsumerRecord<String, byte[]>> deadLetters = deadLetters(1);
        assertEquals(Topics.runStartedKey(hugeId), deadLetters.get(0).key());
        assertEquals("run id is 70000 characters long, at most 100 allowed ('pppppppppppppppppppp...')",
                new String(deadLetters.get(0).headers().lastHeader("__streams.errors.message").value(), StandardCharsets.UTF_8));

        // Restarted on the same state and group: the poison's offset was committed with its dead letter.
        MeterRegistry second = new SimpleMeterRegistry();
        try (QuantilesApp app = QuantilesApp.start(settings, quantiles, second)) {
            assertTrue(app.awaitRunning(PATIENCE), "running again within " + PATIENCE);
            try (KafkaProducer<String, byte[]> producer = producer()) {
                producer.send(iteration("run-a", 5));
            }
            awaitFrontier(app, 5);
            assertEquals(State.RUNNING, app.state());
            assertEquals(0.0, failed(second, "poison-quantiles"), "the poison is not met again");
        }
        assertEquals(1, deadLetters(1).size(), "dead-lettered once");
    }

    private static ProducerRecord<String, byte[]> iteration(String run, int t) {
        return new ProducerRecord<>(Topics.ITERATIONS, run,
                TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, Telemetry.iteration(EXPERIMENT, run, t, 1.0 / (t + 1))));
    }

    private static void awaitFrontier(QuantilesApp app, int iteration) throws InterruptedException {
        await(() -> app.bands().current(EXPERIMENT, "loss").map(CrossRunBand::iteration).orElse(-1) == iteration,
                "the band at iteration " + iteration);
    }

    private static double failed(MeterRegistry registry, String application) {
        return registry.find(MeterNames.FAILED_RECORDS).tag(MeterNames.TAG_APPLICATION, application).counters().stream()
                .mapToDouble(counter -> counter.count()).sum();
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

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** The committed dead letters, read for a few seconds after at least {@code atLeast} arrived. */
    private static List<ConsumerRecord<String, byte[]>> deadLetters(int atLeast) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, byte[]>> read = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.DEAD_LETTERS).stream()
                    .map(info -> new TopicPartition(Topics.DEAD_LETTERS, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            long settled = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settled)) {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
                if (read.size() >= atLeast && settled == Long.MAX_VALUE) {
                    settled = System.nanoTime() + Duration.ofSeconds(3).toNanos(); // any duplicate would show by then
                }
            }
        }
        assertTrue(read.size() >= atLeast, "dead letters: " + read.size());
        return read;
    }
}
