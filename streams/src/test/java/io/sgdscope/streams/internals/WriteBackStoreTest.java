package io.sgdscope.streams.internals;

import static io.sgdscope.streams.internals.StoredProcessors.withStores;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-back store: values changed by records reach the changelog and the store beneath when Kafka
 * Streams commits (TopologyTestDriver commits after every record), once per key and commit; changes not
 * committed are forgotten by {@code clearCache}.
 */
class WriteBackStoreTest {

    private static final String STORE = "sums";
    private static final String CHANGELOG = "write-back-test-" + STORE + "-changelog";

    /** Keeps a running sum per key; adds each value in two steps (two puts per record); a negative value deletes the key. */
    private static final class SumProcessor implements Processor<String, Long, String, Long> {
        private ProcessorContext<String, Long> context;
        private WriteBackStore<Long> sums;

        @Override
        public void init(ProcessorContext<String, Long> context) {
            this.context = context;
            this.sums = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, Long> record) {
            if (record.value() < 0) {
                sums.delete(record.key());
                context.forward(record.withValue(0L));
                return;
            }
            Long before = sums.get(record.key());
            long half = record.value() / 2;
            sums.put(record.key(), (before == null ? 0 : before) + half);
            long sum = sums.get(record.key()) + (record.value() - half);
            sums.put(record.key(), sum);
            context.forward(record.withValue(sum));
        }
    }

    private static Topology topology(int capacity) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.Long()))
                .process(withStores(SumProcessor::new, WriteBackStore.builder(STORE, Serdes.Long(), true, capacity)))
                .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    private static Properties properties(Path stateDir) {
        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "write-back-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        properties.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        properties.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        return properties;
    }

    @Test
    void eachCommitWritesEveryChangedKeyOnceToTheChangelog(@TempDir Path stateDir) {
        try (TopologyTestDriver driver = new TopologyTestDriver(topology(100), properties(stateDir))) {
            var in = driver.createInputTopic("in", new StringSerializer(), new LongSerializer());
            var out = driver.createOutputTopic("out", new StringDeserializer(), new LongDeserializer());
            var changelog = driver.createOutputTopic(CHANGELOG, new StringDeserializer(), new LongDeserializer());
            in.pipeInput("a", 3L);
            in.pipeInput("b", 10L);
            in.pipeInput("a", 4L);
            in.pipeInput("b", -1L);
            assertEquals(List.of(KeyValue.pair("a", 3L), KeyValue.pair("b", 10L), KeyValue.pair("a", 7L), KeyValue.pair("b", 0L)),
                    out.readKeyValuesToList());
            // two puts per record, one changelog record per record: the latest value at the commit
            assertEquals(List.of(KeyValue.pair("a", 3L), KeyValue.pair("b", 10L), KeyValue.pair("a", 7L), KeyValue.pair("b", null)),
                    changelog.readKeyValuesToList());
        }
    }

    @Test
    void committedValuesAreReadBackFromTheStoreBeneathOnceDroppedFromMemory(@TempDir Path stateDir) {
        // capacity 0: after each commit nothing stays in memory, every get reads the store beneath
        try (TopologyTestDriver driver = new TopologyTestDriver(topology(0), properties(stateDir))) {
            var in = driver.createInputTopic("in", new StringSerializer(), new LongSerializer());
            var out = driver.createOutputTopic("out", new StringDeserializer(), new LongDeserializer());
            in.pipeInput("a", 5L);
            in.pipeInput("c", 1L);
            in.pipeInput("a", 6L);
            in.pipeInput("c", -1L);
            in.pipeInput("a", 1L);
            in.pipeInput("c", 2L);
            assertEquals(List.of(KeyValue.pair("a", 5L), KeyValue.pair("c", 1L), KeyValue.pair("a", 11L), KeyValue.pair("c", 0L),
                    KeyValue.pair("a", 12L), KeyValue.pair("c", 2L)), out.readKeyValuesToList());
        }
    }

    @Test
    void changesNotWrittenAreForgottenByClearCache() {
        WriteBackStore<Long> store = WriteBackStore.builder(STORE, Serdes.Long(), false, 10).withLoggingDisabled().build();
        MockProcessorContext<String, Long> context = new MockProcessorContext<>();
        store.init(context.getStateStoreContext(), store);
        store.put("a", 1L);
        store.put("b", 2L);
        assertEquals(2, store.uncommittedChanges());
        store.flushCache();
        assertEquals(0, store.uncommittedChanges());
        store.put("a", 5L);
        store.delete("b");
        store.put("c", 7L);
        assertEquals(5L, store.get("a"));
        assertNull(store.get("b"));
        store.clearCache(); // a dirty close: the uncommitted changes are dropped
        assertEquals(1L, store.get("a"));
        assertEquals(2L, store.get("b"));
        assertNull(store.get("c"));
        store.close();
    }
}
