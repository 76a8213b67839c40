package io.sgdscope.analysis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic as it is when the read starts: every partition from its beginning to the end offset
 * seen at the start, partition after partition, so that the same topic contents always come out in
 * the same order. Uses a consumer of its own with no group: nothing is committed and no live
 * consumer group is touched. Reads committed records only (the streams apps write transactionally).
 */
public final class TopicReader implements AutoCloseable {

    /** Receives each record in order; the raw value bytes are decoded by the caller. */
    @FunctionalInterface
    public interface RecordHandler {
        void handle(ConsumerRecord<String, byte[]> record);
    }

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaConsumer<String, byte[]> consumer;

    /** @param clientConfig bootstrap servers and client properties (security settings) */
    public TopicReader(Map<String, Object> clientConfig) {
        Map<String, Object> config = new HashMap<>(clientConfig);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        // The data is there already: no long polling (with the broker's default 500 ms wait, every
        // switch to the next partition waited for an empty fetch to come back).
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Reads every record of {@code topic} up to the end offsets seen now.
     *
     * @return the number of records handed to the handler
     * @throws IllegalArgumentException if the topic does not exist
     */
    public long readAll(String topic, RecordHandler handler) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, METADATA_TIMEOUT);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalArgumentException("topic " + topic + " does not exist");
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, METADATA_TIMEOUT);
        // All partitions assigned once; only the one being read is not paused, so reading them one
        // after another costs no reassignment.
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        consumer.pause(partitions);
        long count = 0;
        for (TopicPartition partition : partitions) {
            consumer.resume(List.of(partition));
            count += readPartition(partition, ends.get(partition), handler);
            consumer.pause(List.of(partition));
        }
        return count;
    }

    private long readPartition(TopicPartition partition, long end, RecordHandler handler) {
        long count = 0;
        while (consumer.position(partition, METADATA_TIMEOUT) < end) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                if (record.offset() >= end) {
                    consumer.seek(partition, end);
                    break;
                }
                handler.handle(record);
                count++;
            }
        }
        return count;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
