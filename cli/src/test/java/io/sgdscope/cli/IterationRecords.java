package io.sgdscope.cli;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.FrameSerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads sgd.iterations from the beginning with a consumer of the test's own (no group), as an independent witness. */
final class IterationRecords {

    private IterationRecords() {}

    /**
     * Every run's iteration record on the topic (per-run IterationMetrics, and the rows of IterationFrames), read until
     * {@code expected} were seen (bounded).
     */
    static List<IterationMetrics> readAll(String bootstrapServers, int expected, Duration timeout) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        FrameSerde serde = TelemetrySerdes.frames();
        List<IterationMetrics> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            Set<TopicPartition> partitions = consumer.partitionsFor(Topics.ITERATIONS).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).collect(Collectors.toSet());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Frame frame = serde.decode(record.topic(), record.partition(), record.offset(), record.value());
                    records.addAll(frame.rows());
                }
            }
        }
        return records;
    }

    /** The losses of all runs at one iteration of one experiment. */
    static double[] lossesAt(List<IterationMetrics> records, String experimentId, int iteration) {
        return records.stream()
                .filter(r -> r.getExperimentId().equals(experimentId) && r.getIteration() == iteration)
                .mapToDouble(IterationMetrics::getLoss).sorted().toArray();
    }
}
