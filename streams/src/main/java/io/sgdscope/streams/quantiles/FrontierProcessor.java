package io.sgdscope.streams.quantiles;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Last step, keyed by experiment/metric: keeps the band at the frontier iteration in a store (so it
 * survives restarts) and publishes it to {@link QuantileBands}.
 */
final class FrontierProcessor implements Processor<String, CrossRunBand, Void, Void> {

    private final QuantileBands bands;
    /** What this task has published, to withdraw when the task closes or moves to another instance. */
    private final Map<String, CrossRunBand> publishedHere = new HashMap<>();
    private KeyValueStore<String, CrossRunBand> frontiers;

    FrontierProcessor(QuantileBands bands) {
        this.bands = bands;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        frontiers = context.getStateStore(QuantilesTopology.FRONTIERS_STORE);
        // The store is restored before init: show the frontiers from before a restart straight away.
        try (KeyValueIterator<String, CrossRunBand> all = frontiers.all()) {
            while (all.hasNext()) {
                KeyValue<String, CrossRunBand> entry = all.next();
                publish(entry.key, entry.value);
            }
        }
    }

    @Override
    public void process(Record<String, CrossRunBand> record) {
        CrossRunBand candidate = record.value();
        if (candidate != null && isNewFrontier(frontiers.get(record.key()), candidate)) {
            frontiers.put(record.key(), candidate);
            publish(record.key(), candidate);
        }
    }

    @Override
    public void close() {
        publishedHere.values().forEach(bands::withdraw);
        publishedHere.clear();
    }

    /**
     * The frontier rule: the frontier iteration is the deepest iteration whose run count equals the
     * largest run count at any iteration of the experiment. Run counts only grow, one at a time, so
     * the frontier moves to an updated iteration exactly when its count exceeds the largest so far
     * (it is then the only iteration with that count) or equals it at the frontier or deeper.
     */
    static boolean isNewFrontier(CrossRunBand current, CrossRunBand candidate) {
        if (current == null || candidate.runs() > current.runs()) {
            return true;
        }
        return candidate.runs() == current.runs() && candidate.iteration() >= current.iteration();
    }

    private void publish(String key, CrossRunBand band) {
        bands.publish(band);
        publishedHere.put(key, band);
    }
}
