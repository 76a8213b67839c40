package io.sgdscope.streams.quantiles;

import io.sgdscope.streams.internals.WriteBackStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The batches of values a run task gathers, by experiment and iteration ({@link PartialValues}), until they
 * go on: when full ({@code batchRecords} records) or at the emit interval. Kept in memory and in a
 * changelogged {@link WriteBackStore} (written once per commit), so that what was counted into a batch and
 * what was sent commit together.
 */
final class Batches {

    /** Sends a batch on. */
    @FunctionalInterface
    interface Sender {
        void send(String key, PartialValues batch, long timestamp);
    }

    private final int batchRecords;
    private final Map<String, PartialValues> open = new HashMap<>();
    /** Batches changed since the last {@link #keep}. */
    private final Map<String, PartialValues> touched = new LinkedHashMap<>();
    private WriteBackStore<PartialValues> store;
    /** The batch looked up last (frames of a block hit the same one or two batches run after run). */
    private String lastExperiment;
    private int lastIteration;
    private PartialValues last;

    Batches(int batchRecords) {
        this.batchRecords = batchRecords;
    }

    /** Takes the store (restored by Kafka Streams): the batches not yet sent are the ones it holds. */
    void init(WriteBackStore<PartialValues> store) {
        this.store = Objects.requireNonNull(store, "store");
        open.clear();
        touched.clear();
        last = null;
        store.forEachCommitted(open::put);
    }

    /** The open batch of the experiment and iteration (made if needed), noted as changed. */
    PartialValues batch(String experimentId, int iteration) {
        if (last != null && iteration == lastIteration && experimentId.equals(lastExperiment)) {
            return last;
        }
        String key = PartialValues.key(experimentId, iteration);
        PartialValues batch = open.get(key);
        if (batch == null) {
            batch = new PartialValues(experimentId, iteration);
            open.put(key, batch);
        }
        touched.put(key, batch);
        lastExperiment = experimentId;
        lastIteration = iteration;
        last = batch;
        return batch;
    }

    /** Stores the batches changed since the last call; full ones go on at once. */
    void keep(long timestamp, Sender sender) {
        for (Map.Entry<String, PartialValues> entry : touched.entrySet()) {
            if (entry.getValue().records() >= batchRecords) {
                send(entry.getKey(), entry.getValue(), timestamp, sender);
            } else {
                store.put(entry.getKey(), entry.getValue());
            }
        }
        touched.clear();
        last = null;
    }

    /** Sends every open batch (the punctuation every emit interval). */
    void sendAll(long timestamp, Sender sender) {
        keep(timestamp, sender);
        for (Map.Entry<String, PartialValues> entry : new ArrayList<>(open.entrySet())) {
            send(entry.getKey(), entry.getValue(), timestamp, sender);
        }
    }

    private void send(String key, PartialValues batch, long timestamp, Sender sender) {
        sender.send(key, batch, timestamp);
        store.delete(key);
        open.remove(key);
    }

    void clear() {
        open.clear();
        touched.clear();
        last = null;
    }
}
