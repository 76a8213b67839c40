package io.sgdscope.streams.internals;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * A task's state by key, kept decoded in memory and written to a changelogged key-value store only when
 * Kafka Streams commits. A processor reads and changes values as plain objects ({@link #get},
 * {@link #put} after changing one); each changed key is serialised and written once per commit, however
 * many records changed it.
 *
 * <p>Why: the apps read and rewrite a run's state on every record. Through Kafka Streams' own record
 * cache each of those writes serialises the value again (the cache holds bytes), which cost the apps
 * about a quarter of their time.
 *
 * <p>Exactly-once: before Kafka Streams flushes the task's producer and commits its transaction it
 * flushes the caches of the task's stores (StreamTask#flush → ProcessorStateManager#flushCache, for
 * stores implementing its interface {@code CachedStateStore}). That is when this store writes its
 * changed values to the store beneath, whose changelog records thereby join the same transaction as the
 * input offsets they reflect. Changes not yet written when a task is closed dirty are dropped with the
 * transaction they belonged to; the store beneath (restored from its changelog) is the truth, and
 * {@link #init} and {@link #clearCache} forget everything held in memory. {@code CachedStateStore} is an
 * internal interface of Kafka Streams: this relies on the pinned version (4.4.0) and WriteBackStoreTest
 * fails if a commit no longer writes the changes.
 *
 * <p>Memory: values read or written stay in memory (least recently used first out) up to
 * {@code capacity} keys beyond those changed since the last commit; the store beneath holds everything.
 * Not thread-safe: one task's processor uses it.
 *
 * @param <V> the values, mutable objects owned by the processor
 */
public final class WriteBackStore<V> implements StateStore, CachedStateStore<String, V> {

    private final KeyValueStore<String, V> stored;
    private final int capacity;
    /** Values held in memory, in access order (the eldest are dropped first). */
    private final LinkedHashMap<String, V> values = new LinkedHashMap<>(1024, 0.75f, true);
    /** Keys changed since the last commit; a key changed and then deleted is in {@link #deleted}. */
    private final Set<String> changed = new HashSet<>();
    private final Set<String> deleted = new HashSet<>();

    private WriteBackStore(KeyValueStore<String, V> stored, int capacity) {
        this.stored = stored;
        this.capacity = capacity;
    }

    /**
     * A builder for a write-back store: a persistent (RocksDB) or in-memory key-value store with a
     * changelog and no record cache beneath it.
     *
     * @param capacity values kept in memory beyond those changed since the last commit
     */
    public static <V> StoreBuilder<WriteBackStore<V>> builder(String name, Serde<V> serde, boolean persistent, int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, was " + capacity);
        }
        return new Builder<>(Stores.keyValueStoreBuilder(
                persistent ? Stores.persistentKeyValueStore(name) : Stores.inMemoryKeyValueStore(name),
                Serdes.String(), Objects.requireNonNull(serde, "serde")).withCachingDisabled(), capacity);
    }

    /** The value of the key, or null; a value read stays in memory. */
    public V get(String key) {
        V value = values.get(key);
        if (value == null && !deleted.contains(key)) {
            value = stored.get(key);
            if (value != null) {
                values.put(key, value);
            }
        }
        return value;
    }

    /** Sets the value of the key (also after changing the object {@link #get} returned: that is how a change is noted). */
    public void put(String key, V value) {
        Objects.requireNonNull(value, "value (use delete)");
        values.put(key, value);
        changed.add(key);
        deleted.remove(key);
    }

    public void delete(String key) {
        values.remove(key);
        changed.remove(key);
        deleted.add(key);
    }

    /** Every key and value of the store beneath, as of the last commit (e.g. to rebuild a processor's state in init). */
    public void forEachCommitted(BiConsumer<String, V> action) {
        try (KeyValueIterator<String, V> all = stored.all()) {
            while (all.hasNext()) {
                var entry = all.next();
                action.accept(entry.key, entry.value);
            }
        }
    }

    /** Keys changed or deleted since the last commit. */
    public int uncommittedChanges() {
        return changed.size() + deleted.size();
    }

    /** Writes the changes since the last commit to the store beneath (and so to its changelog). */
    @Override
    public void flushCache() {
        for (String key : changed) {
            stored.put(key, values.get(key));
        }
        for (String key : deleted) {
            stored.delete(key);
        }
        changed.clear();
        deleted.clear();
        Iterator<Map.Entry<String, V>> eldest = values.entrySet().iterator();
        while (values.size() > capacity && eldest.hasNext()) {
            eldest.next();
            eldest.remove();
        }
    }

    /** Forgets the values held in memory and the changes not yet written. */
    @Override
    public void clearCache() {
        values.clear();
        changed.clear();
        deleted.clear();
    }

    @Override
    public boolean setFlushListener(CacheFlushListener<String, V> listener, boolean sendOldValues) {
        return false; // nothing downstream listens to this store's flushes
    }

    @Override
    public String name() {
        return stored.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        clearCache();
        stored.init(context, root);
    }

    @Override
    public void flush() {
        stored.flush();
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
        stored.commit(changelogOffsets);
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
        return stored.committedOffset(partition);
    }

    @Override
    public boolean managesOffsets() {
        return stored.managesOffsets();
    }

    @Override
    public long approximateNumUncommittedBytes() {
        return stored.approximateNumUncommittedBytes();
    }

    @Override
    public void close() {
        clearCache();
        stored.close();
    }

    @Override
    public boolean persistent() {
        return stored.persistent();
    }

    @Override
    public boolean isOpen() {
        return stored.isOpen();
    }

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        return stored.query(query, positionBound, config);
    }

    @Override
    public Position getPosition() {
        return stored.getPosition();
    }

    /** Builds the store beneath with the settings given here (caching stays off: this store is the cache). */
    private static final class Builder<V> implements StoreBuilder<WriteBackStore<V>> {

        private final StoreBuilder<KeyValueStore<String, V>> stored;
        private final int capacity;

        Builder(StoreBuilder<KeyValueStore<String, V>> stored, int capacity) {
            this.stored = stored;
            this.capacity = capacity;
        }

        @Override
        public StoreBuilder<WriteBackStore<V>> withCachingEnabled() {
            return this; // always: the values in memory are the cache
        }

        @Override
        public StoreBuilder<WriteBackStore<V>> withCachingDisabled() {
            throw new UnsupportedOperationException("a write-back store is a cache; use a plain key-value store instead");
        }

        @Override
        public StoreBuilder<WriteBackStore<V>> withLoggingEnabled(Map<String, String> config) {
            stored.withLoggingEnabled(config);
            return this;
        }

        @Override
        public StoreBuilder<WriteBackStore<V>> withLoggingDisabled() {
            stored.withLoggingDisabled();
            return this;
        }

        @Override
        public WriteBackStore<V> build() {
            return new WriteBackStore<>(stored.build(), capacity);
        }

        @Override
        public Map<String, String> logConfig() {
            return stored.logConfig();
        }

        @Override
        public boolean loggingEnabled() {
            return stored.loggingEnabled();
        }

        @Override
        public String name() {
            return stored.name();
        }
    }
}
