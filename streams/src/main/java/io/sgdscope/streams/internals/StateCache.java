package io.sgdscope.streams.internals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A write-through cache of deserialised values in front of a task's store, so that per-run state read
 * on every record is not decoded every time. Writes go to the store at once (so the changelog and
 * exactly-once see every change); reads come from the cache when the value is there. Only correct for
 * a store that this processor alone writes; {@link #clear()} it in {@code init} (Kafka Streams may
 * re-initialise a processor after a dirty close, with its store rolled back). Least recently used
 * entries beyond the capacity are dropped.
 */
public final class StateCache<V> {

    private final Map<String, V> values;
    private KeyValueStore<String, V> store;

    public StateCache(int capacity) {
        values = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Forgets everything and reads from this store from now on. */
    public void attach(KeyValueStore<String, V> newStore) {
        values.clear();
        store = newStore;
    }

    public void clear() {
        values.clear();
    }

    public V get(String key) {
        V value = values.get(key);
        if (value == null) {
            value = store.get(key);
            if (value != null) {
                values.put(key, value);
            }
        }
        return value;
    }

    /** The value, or a new one made (and cached, not yet stored) when there is none. */
    public V getOrCreate(String key, Function<String, V> create) {
        V value = get(key);
        if (value == null) {
            value = create.apply(key);
            values.put(key, value);
        }
        return value;
    }

    public void put(String key, V value) {
        store.put(key, value);
        values.put(key, value);
    }

    public void delete(String key) {
        store.delete(key);
        values.remove(key);
    }
}
