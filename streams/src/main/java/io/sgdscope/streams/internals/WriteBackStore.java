package io.sgdscope.streams.internals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
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
 * <p>Memory: values read or written stay in memory up to {@code capacity} keys (at each commit the
 * keys not used since the previous one go first); the store beneath holds everything.
 * Not thread-safe: one task's processor uses it.
 *
 * @param <V> the values, mutable objects owned by the processor
 */
public final class WriteBackStore<V> implements StateStore, CachedStateStore<String, V> {

    private final KeyValueStore<String, V> stored;
    private final int capacity;
    /** Values held in memory, and keys deleted since the last commit (an entry with a null value). */
    private final HashMap<String, Entry<V>> entries = new HashMap<>(1024);
    /** Entries changed or deleted since the last commit. */
    private final ArrayList<Entry<V>> changed = new ArrayList<>();
    /**
     * Whether every key the store beneath holds is also in memory, so that a key not in memory has no
     * value (true when the store was empty once processing began and nothing has been dropped from
     * memory since); null until the first read, which comes after Kafka Streams restored the store.
     */
    private Boolean completeInMemory;

    /** A key's value in memory; {@code changed} while it differs from the store beneath. */
    private static final class Entry<V> {
        final String key;
        V value;
        boolean changed;
        /** Read or written since the last commit (entries not used in a whole commit interval are dropped first). */
        boolean used = true;

        Entry(String key, V value) {
            this.key = key;
            this.value = value;
        }
    }

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
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            if (completeInMemory == null) {
                try (KeyValueIterator<String, V> any = stored.all()) {
                    completeInMemory = !any.hasNext();
                }
            }
            if (completeInMemory) {
                return null; // e.g. a run seen for the first time: no read of the store beneath
            }
            V value = stored.get(key);
            if (value == null) {
                return null;
            }
            entry = new Entry<>(key, value);
            entries.put(key, entry);
        }
        entry.used = true;
        return entry.value;
    }

    /** Sets the value of the key (also after changing the object {@link #get} returned: that is how a change is noted). */
    public void put(String key, V value) {
        Objects.requireNonNull(value, "value (use delete)");
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            entry = new Entry<>(key, value);
            entries.put(key, entry);
        }
        entry.value = value;
        entry.used = true;
        markChanged(entry);
    }

    /** Deletes the key (from the store beneath at the next commit). */
    public void delete(String key) {
        Entry<V> entry = entries.get(key);
        if (entry == null) {
            entry = new Entry<>(key, null);
            entries.put(key, entry);
        }
        entry.value = null;
        markChanged(entry);
    }

    private void markChanged(Entry<V> entry) {
        if (!entry.changed) {
            entry.changed = true;
            changed.add(entry);
        }
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
        return changed.size();
    }

    /**
     * Writes the changes since the last commit to the store beneath (and so to its changelog), then
     * drops values from memory beyond the capacity: first the deleted keys, then those not used since
     * the previous commit, then any.
     */
    @Override
    public void flushCache() {
        for (Entry<V> entry : changed) {
            if (entry.value == null) {
                stored.delete(entry.key);
                entries.remove(entry.key);
            } else {
                stored.put(entry.key, entry.value);
            }
            entry.changed = false;
        }
        changed.clear();
        if (entries.size() > capacity) {
            entries.values().removeIf(entry -> !entry.used);
            completeInMemory = false;
        }
        if (entries.size() > capacity) {
            Iterator<Entry<V>> any = entries.values().iterator();
            while (entries.size() > capacity && any.hasNext()) {
                any.next();
                any.remove();
            }
        }
        for (Entry<V> entry : entries.values()) {
            entry.used = false;
        }
    }

    /** Forgets the values held in memory and the changes not yet written. */
    @Override
    public void clearCache() {
        entries.clear();
        changed.clear();
        completeInMemory = null;
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
