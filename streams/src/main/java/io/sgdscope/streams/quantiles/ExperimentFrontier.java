package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The frontier of one experiment: the latest iteration that every active run has reached, and the band
 * of each metric there. An in-memory index of the frontier stores, owned by one stream task.
 *
 * <p>The rule: with A the runs that sent iterations, no RunFinished and have not stalled, t is reached by
 * every active run when runs(t) − finished(t) ≥ |A|, where runs(t) is how many runs the loss band at t
 * counts and finished(t) how many of the finished runs got to t or further. The frontier is the deepest
 * such t; with no active run, the deepest t any run reached. So runs that finish (diverged, cancelled,
 * completed early) stop holding the frontier back, runs in lockstep show the latest iteration all have
 * reached, and runs trained one after another show the newest run's progress against all before it.
 * A run that stops without a RunFinished (a crashed trainer) counts as active until the stall timeout;
 * then it is stalled and counts like a finished run at its last iteration, until it sends again.
 *
 * <p>An experiment sharded across trainer processes ({@code sgdscope train --shard i/N}) names in each RunStarted
 * the run's shard i and the number of shards N. While the RunStarted of no run of some shard has arrived (fewer
 * distinct shards seen than the largest N said), that shard — a process that has not begun — could add a value to
 * any iteration from 0 on: the frontier stays at -1 (none), so that no band is shown as complete before the last
 * shard has joined. Only starts name shards: a run known by its iterations or its RunFinished alone adds none.
 * Runs whose records name no shard (an unsharded experiment, older trainers) never make it wait, so runs of one
 * process that start one after another follow the rule above as they always did.
 *
 * <p>Bands below the frontier are dropped (for each metric the latest one below it is kept, for metrics
 * computed every k iterations); a run that starts later brings the early iterations back as its values
 * arrive.
 */
final class ExperimentFrontier {

    /** A band no longer kept, to delete from the store. */
    record Dropped(String metric, int iteration) {}

    /** The metric whose band's run counts place the frontier. */
    private static final String LOSS = "loss";

    private final String experimentId;
    /** The number of shards N of the experiment: the largest a RunStarted said; 0 while none said (not sharded). */
    private int shardCount;
    /** The shards i of which a run has started. */
    private final Set<Integer> shardsSeen = new HashSet<>();
    private int active;
    private long stalled;
    private final Map<RunStatus, Long> finishedByStatus = new EnumMap<>(RunStatus.class);
    /** Finished runs that were active, by their last iteration. */
    private final TreeMap<Integer, Integer> finishedLast = new TreeMap<>();
    private final Map<String, TreeMap<Integer, CrossRunBand>> bands = new HashMap<>();
    private int frontier = -1;

    ExperimentFrontier(String experimentId) {
        this.experimentId = experimentId;
    }

    /** A run of shard {@code index} of {@code count} started (its RunStarted arrived). */
    void shardStarted(int index, int count) {
        shardCount = Math.max(shardCount, count);
        shardsSeen.add(index);
    }

    /** Whether a shard of the experiment has not started any run yet (fewer shards seen than its shard count). */
    boolean awaitsShards() {
        return shardsSeen.size() < shardCount;
    }

    void activate() {
        active++;
    }

    /** A run finished; if it was active, it reached {@code lastIteration}. */
    void finish(RunStatus status, boolean wasActive, int lastIteration) {
        finishedByStatus.merge(status, 1L, Long::sum);
        if (wasActive) {
            active--;
            if (lastIteration >= 0) {
                finishedLast.merge(lastIteration, 1, Integer::sum);
            }
        }
    }

    /** An active run stalled at {@code lastIteration}: it stops holding the frontier back. */
    void stall(int lastIteration) {
        active--;
        stalled++;
        if (lastIteration >= 0) {
            finishedLast.merge(lastIteration, 1, Integer::sum);
        }
    }

    /** A stalled run (stalled at {@code lastIteration}) sent again: active once more. */
    void revive(int lastIteration) {
        stalled--;
        active++;
        if (lastIteration >= 0) {
            finishedLast.computeIfPresent(lastIteration, (t, runs) -> runs == 1 ? null : runs - 1);
        }
    }

    void band(CrossRunBand band) {
        bands.computeIfAbsent(band.metric(), metric -> new TreeMap<>()).put(band.iteration(), band);
    }

    /**
     * Moves the frontier by the rules above. If no iteration kept satisfies them (a run just became active
     * and none of its values has arrived), the frontier stays; while a shard is missing, it is -1.
     *
     * @return whether it moved
     */
    boolean update() {
        if (awaitsShards()) {
            boolean moved = frontier != -1;       // the missing shard could add to every iteration: none is complete
            frontier = -1;
            return moved;
        }
        TreeMap<Integer, CrossRunBand> loss = bands.get(LOSS);
        if (loss == null) {
            return false;
        }
        // One walk down both maps: reaching = the finished runs whose last iteration is t or later.
        Iterator<Map.Entry<Integer, Integer>> finished = finishedLast.descendingMap().entrySet().iterator();
        Map.Entry<Integer, Integer> nextFinished = finished.hasNext() ? finished.next() : null;
        long reaching = 0;
        for (Map.Entry<Integer, CrossRunBand> entry : loss.descendingMap().entrySet()) {
            int t = entry.getKey();
            while (nextFinished != null && nextFinished.getKey() >= t) {
                reaching += nextFinished.getValue();
                nextFinished = finished.hasNext() ? finished.next() : null;
            }
            if (active == 0 || entry.getValue().runs() - reaching >= active) {
                boolean moved = t != frontier;
                frontier = t;
                return moved;
            }
        }
        return false;
    }

    /** Whether a change of this metric's bands can move the frontier (only the loss band's run counts are read). */
    static boolean movesFrontier(String metric) {
        return LOSS.equals(metric);
    }

    int frontier() {
        return frontier;
    }

    /** The band of each metric at the frontier (or its latest before it). */
    List<CrossRunBand> bandsAtFrontier() {
        List<CrossRunBand> current = new ArrayList<>();
        if (frontier < 0) {
            return current;
        }
        for (TreeMap<Integer, CrossRunBand> metric : bands.values()) {
            Map.Entry<Integer, CrossRunBand> floor = metric.floorEntry(frontier);
            if (floor != null) {
                current.add(floor.getValue());
            }
        }
        return current;
    }

    /** Whether this band is the one shown for its metric: the latest at or before the frontier. */
    boolean isShown(CrossRunBand band) {
        TreeMap<Integer, CrossRunBand> metric = bands.get(band.metric());
        if (metric == null || frontier < 0) {
            return false;
        }
        Map.Entry<Integer, CrossRunBand> floor = metric.floorEntry(frontier);
        return floor != null && floor.getValue() == band;
    }

    /** Drops the bands below the frontier but each metric's latest one there. */
    List<Dropped> prune() {
        List<Dropped> dropped = new ArrayList<>();
        if (frontier < 0) {
            return dropped;
        }
        for (Map.Entry<String, TreeMap<Integer, CrossRunBand>> metric : bands.entrySet()) {
            Integer keep = metric.getValue().floorKey(frontier);
            if (keep == null) {
                continue;
            }
            NavigableMap<Integer, CrossRunBand> below = metric.getValue().headMap(keep, false);
            for (Integer t : below.keySet()) {
                dropped.add(new Dropped(metric.getKey(), t));
            }
            below.clear();
        }
        return dropped;
    }

    ExperimentStatus status() {
        return new ExperimentStatus(experimentId, frontier, active, finishedByStatus.getOrDefault(RunStatus.COMPLETED, 0L),
                finishedByStatus.getOrDefault(RunStatus.DIVERGED, 0L), finishedByStatus.getOrDefault(RunStatus.CANCELLED, 0L),
                finishedByStatus.getOrDefault(RunStatus.FAILED, 0L), stalled);
    }
}
