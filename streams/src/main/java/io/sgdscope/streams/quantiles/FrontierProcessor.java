package io.sgdscope.streams.quantiles;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Last step, keyed by experiment: follows the runs' lifecycles and the updated bands, keeps the
 * frontier of each experiment ({@link ExperimentFrontier}) and publishes its bands to {@link QuantileBands}
 * and its status to {@link ExperimentStatuses}. The runs and the bands kept are in stores (so the
 * frontier survives restarts); the index is rebuilt from them when the task starts.
 */
final class FrontierProcessor implements Processor<String, FrontierEvent, Void, Void> {

    private final QuantileBands bands;
    private final ExperimentStatuses statuses;
    private final Map<String, ExperimentFrontier> frontiers = new HashMap<>();
    /** What this task has published, to withdraw when the task closes or moves to another instance. */
    private final Map<String, CrossRunBand> publishedHere = new HashMap<>();
    private final Set<String> experimentsHere = new HashSet<>();
    private KeyValueStore<String, RunLifecycle> runs;
    private KeyValueStore<String, CrossRunBand> keptBands;

    FrontierProcessor(QuantileBands bands, ExperimentStatuses statuses) {
        this.bands = bands;
        this.statuses = statuses;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        runs = context.getStateStore(QuantilesTopology.FRONTIER_RUNS_STORE);
        keptBands = context.getStateStore(QuantilesTopology.FRONTIER_BANDS_STORE);
        frontiers.clear(); // a processor may be initialised again after a dirty close: rebuild from the stores
        // The stores are restored before init: rebuild the index and show the frontiers straight away.
        try (KeyValueIterator<String, RunLifecycle> all = runs.all()) {
            while (all.hasNext()) {
                apply(all.next().value);
            }
        }
        try (KeyValueIterator<String, CrossRunBand> all = keptBands.all()) {
            while (all.hasNext()) {
                KeyValue<String, CrossRunBand> entry = all.next();
                frontier(entry.value.experimentId()).band(entry.value);
            }
        }
        for (ExperimentFrontier frontier : frontiers.values()) {
            frontier.update();
            publish(frontier);
        }
    }

    @Override
    public void process(Record<String, FrontierEvent> record) {
        FrontierEvent event = record.value();
        if (event == null) {
            return;
        }
        ExperimentFrontier frontier;
        CrossRunBand updated = null;
        if (event.lifecycle() != null) {
            RunLifecycle lifecycle = event.lifecycle();
            String key = lifecycle.experimentId() + '\u0000' + lifecycle.runId();
            RunLifecycle known = runs.get(key);
            frontier = frontier(lifecycle.experimentId());
            RunLifecycle changed = change(frontier, known, lifecycle);
            if (changed == null) {
                return; // nothing new: a run starts once, becomes active, stalls and finishes at most once per turn
            }
            runs.put(key, changed);
        } else {
            CrossRunBand band = event.band();
            keptBands.put(bandKey(band.experimentId(), band.metric(), band.iteration()), band);
            frontier = frontier(band.experimentId());
            frontier.band(band);
            updated = band;
        }
        // Only lifecycles and loss bands change what the frontier rule reads; any other band leaves it where it is.
        boolean relevant = updated == null || ExperimentFrontier.movesFrontier(updated.metric());
        if (relevant && frontier.update()) {
            for (ExperimentFrontier.Dropped dropped : frontier.prune()) {
                keptBands.delete(bandKey(event.experimentId(), dropped.metric(), dropped.iteration()));
            }
            publish(frontier);
        } else if (updated != null) {
            // The frontier stayed: only a band that is now the one shown for its metric changes the view.
            if (frontier.isShown(updated)) {
                bands.publish(updated);
                publishedHere.put(updated.experimentId() + '\u0000' + updated.metric(), updated);
            }
        } else {
            publishStatus(frontier);
        }
    }

    @Override
    public void close() {
        publishedHere.values().forEach(bands::withdraw);
        publishedHere.clear();
        experimentsHere.forEach(statuses::withdraw);
        experimentsHere.clear();
    }

    /**
     * Applies a lifecycle event to the frontier, given what the store knew of the run. A run's events may
     * arrive in any order (its RunStarted crosses another topic than its iterations): the entry stored keeps the
     * run's latest state and the shard its start named, if any.
     *
     * @return what to store for the run, or null when the event changed nothing (then nothing is stored)
     */
    private static RunLifecycle change(ExperimentFrontier frontier, RunLifecycle known, RunLifecycle event) {
        RunLifecycle.Kind was = known == null ? null : known.kind();
        switch (event.kind()) {
            case STARTED -> {
                if (!event.sharded() || known != null && known.sharded()) {
                    return null;                    // names no shard, or the run's shard is known already
                }
                frontier.shardStarted(event.shardIndex(), event.shardCount());
                return known == null ? event : known.withShardOf(event);
            }
            case ACTIVE -> {
                if (was == null || was == RunLifecycle.Kind.STARTED) {
                    frontier.activate();
                    return event.withShardOf(known);
                }
                if (was == RunLifecycle.Kind.STALLED) {
                    frontier.revive(known.lastIteration());
                    return event.withShardOf(known);
                }
                return null;
            }
            case STALLED -> {
                if (was != RunLifecycle.Kind.ACTIVE) {
                    return null;                    // stalls only when active (and not before it was)
                }
                frontier.stall(event.lastIteration());
                return event.withShardOf(known);
            }
            case FINISHED -> {
                if (was == RunLifecycle.Kind.FINISHED) {
                    return null;
                }
                if (was == RunLifecycle.Kind.STALLED) {
                    frontier.revive(known.lastIteration());
                }
                boolean wasActive = was == RunLifecycle.Kind.ACTIVE || was == RunLifecycle.Kind.STALLED;
                frontier.finish(event.status(), wasActive, event.lastIteration());
                return event.withShardOf(known);
            }
            default -> throw new IllegalStateException("unknown lifecycle " + event.kind());
        }
    }

    /** Re-applies a stored lifecycle while rebuilding (a run's latest entry replaced its earlier ones). */
    private void apply(RunLifecycle lifecycle) {
        ExperimentFrontier frontier = frontier(lifecycle.experimentId());
        if (lifecycle.sharded()) {
            frontier.shardStarted(lifecycle.shardIndex(), lifecycle.shardCount());
        }
        if (lifecycle.kind() == RunLifecycle.Kind.ACTIVE) {
            frontier.activate();
        } else if (lifecycle.kind() == RunLifecycle.Kind.STALLED) {
            frontier.activate();
            frontier.stall(lifecycle.lastIteration());
        } else if (lifecycle.kind() == RunLifecycle.Kind.FINISHED) {
            // Stored finished runs were active before if they reached an iteration.
            boolean wasActive = lifecycle.lastIteration() >= 0;
            if (wasActive) {
                frontier.activate();
            }
            frontier.finish(lifecycle.status(), wasActive, lifecycle.lastIteration());
        }
        // STARTED: its shard noted, not active yet.
    }

    private ExperimentFrontier frontier(String experimentId) {
        return frontiers.computeIfAbsent(experimentId, ExperimentFrontier::new);
    }

    private void publish(ExperimentFrontier frontier) {
        List<CrossRunBand> current = new ArrayList<>(frontier.bandsAtFrontier());
        if (frontier.frontier() < 0) {
            withdrawBands(frontier.status().experimentId());   // back to none: a shard is still missing
        }
        for (CrossRunBand band : current) {
            bands.publish(band);
            publishedHere.put(band.experimentId() + '\u0000' + band.metric(), band);
        }
        publishStatus(frontier);
    }

    /** Withdraws the bands this task shows for the experiment. */
    private void withdrawBands(String experimentId) {
        String prefix = experimentId + '\u0000';
        publishedHere.entrySet().removeIf(entry -> {
            if (!entry.getKey().startsWith(prefix)) {
                return false;
            }
            bands.withdraw(entry.getValue());
            return true;
        });
    }

    private void publishStatus(ExperimentFrontier frontier) {
        ExperimentStatus status = frontier.status();
        if (!status.equals(statuses.current(status.experimentId()).orElse(null))) {
            statuses.publish(status);
        }
        experimentsHere.add(status.experimentId());
    }

    static String bandKey(String experimentId, String metric, int iteration) {
        return experimentId + '\u0000' + metric + '\u0000' + iteration;
    }
}
