package io.sgdscope.streams.deviation;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs whose RunFinished was processed before all the iterations it says were published, and until when
 * (wall clock) each waits for them: RunFinished crosses a repartition topic while iterations are read in place,
 * so it can overtake a run's last frames (e.g. while a partition leader moves), and records the trainer dropped
 * never come. Kept in memory by the processor of the task; rebuilt from the store when the task starts (each
 * waiting run then gets a new full wait). Not thread-safe.
 */
final class AwaitedFinishes {

    /** A run, found in the store by its frame key. */
    record Awaited(String frameKey, String runId) {}

    private final long waitMillis;
    /** Deadlines in the order the runs began to wait, which with one wait for all is the order of the deadlines. */
    private final LinkedHashMap<Awaited, Long> deadlines = new LinkedHashMap<>();

    AwaitedFinishes(long waitMillis) {
        if (waitMillis < 0) {
            throw new IllegalArgumentException("the wait must be >= 0 ms, was " + waitMillis);
        }
        this.waitMillis = waitMillis;
    }

    /** The run begins to wait at {@code now} (a run already waiting keeps its deadline). */
    void await(String frameKey, String runId, long now) {
        deadlines.putIfAbsent(new Awaited(frameKey, runId), now + waitMillis);
    }

    /** The run no longer waits (it finished). */
    void remove(String frameKey, String runId) {
        deadlines.remove(new Awaited(frameKey, runId));
    }

    /** Removes and returns the runs whose wait is over at {@code now}. */
    List<Awaited> expired(long now) {
        List<Awaited> expired = new ArrayList<>();
        Iterator<Map.Entry<Awaited, Long>> entries = deadlines.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<Awaited, Long> entry = entries.next();
            if (entry.getValue() > now) {
                break;
            }
            expired.add(entry.getKey());
            entries.remove();
        }
        return expired;
    }

    int size() {
        return deadlines.size();
    }

    void clear() {
        deadlines.clear();
    }
}
