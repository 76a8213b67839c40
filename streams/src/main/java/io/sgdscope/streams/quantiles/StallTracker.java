package io.sgdscope.streams.quantiles;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When each run of a task last sent a record, and which runs have been silent for the stall timeout: the
 * stall decisions of the frontier (README "The frontier"), apart from the per-run step. Runs are tracked by
 * their block's key and their position in it ({@link RunBlock}), so a frame of 500 runs touches one map
 * entry and an array. In memory only, on the app's wall clock (after a restart each run gets a new full
 * timeout); the caller passes the time, so it can be tested with a fake clock.
 *
 * <p>A run is tracked from its first counted iteration (or from a RunFinished that waits for its last
 * iterations) until it finishes ({@link #forget}). It is reported silent once per silence
 * ({@link #silentRuns}); its next record makes it active again, and {@link #seen} says so, so that the
 * caller announces it.
 */
final class StallTracker {

    private static final byte UNTRACKED = 0;
    private static final byte ACTIVE = 1;
    private static final byte SILENT = 2;
    /** Rebuilt after a restart: the frontier may know it as stalled, so its next record announces it active. */
    private static final byte RESTORED = 3;

    /** A run silent for the timeout. */
    record Silent(String blockKey, String experimentId, int position) {}

    /** The activity of one block's runs, by position. */
    static final class Block {
        final String key;
        final String experimentId;
        private long[] lastSeen = new long[1];
        private byte[] state = new byte[1];
        /** Tracked runs (not UNTRACKED). */
        private int tracked;

        private Block(String key, String experimentId) {
            this.key = key;
            this.experimentId = experimentId;
        }

        private void ensure(int position) {
            if (position >= state.length) {
                int capacity = Math.max(position + 1, state.length * 2);
                lastSeen = Arrays.copyOf(lastSeen, capacity);
                state = Arrays.copyOf(state, capacity);
            }
        }
    }

    private final long timeoutMillis;
    private final Map<String, Block> blocks = new HashMap<>();

    /** @param timeout how long a run may send nothing before it counts as stalled; zero = never */
    StallTracker(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("stall timeout must be >= 0, was " + timeout);
        }
        this.timeoutMillis = timeout.toMillis();
    }

    /** Whether runs can stall at all (a timeout is set). */
    boolean enabled() {
        return timeoutMillis > 0;
    }

    /** How often to look for silent runs: a quarter of the timeout, within 100 ms .. 1 min. */
    Duration checkInterval() {
        Duration check = Duration.ofMillis(timeoutMillis).dividedBy(4);
        Duration longest = Duration.ofMinutes(1);
        Duration shortest = Duration.ofMillis(100);
        return check.compareTo(longest) > 0 ? longest : check.compareTo(shortest) < 0 ? shortest : check;
    }

    /** The block's activity (made on first use); null when disabled. */
    Block block(String key, String experimentId) {
        if (!enabled()) {
            return null;
        }
        Block block = blocks.get(key);
        if (block == null) {
            block = new Block(key, experimentId);
            blocks.put(key, block);
        }
        return block;
    }

    /**
     * The run sent a record at {@code now}.
     *
     * @return true if it must be announced active again: it had been reported silent, or was restored
     *         after a restart
     */
    boolean seen(Block block, int position, long now) {
        if (block == null) {
            return false;
        }
        block.ensure(position);
        byte was = block.state[position];
        block.lastSeen[position] = now;
        block.state[position] = ACTIVE;
        if (was == UNTRACKED) {
            block.tracked++;
        }
        return was == SILENT || was == RESTORED;
    }

    /** A sign of life that does not make a silent run active (a snapshot): only an active run's clock restarts. */
    void signOfLife(Block block, int position, long now) {
        if (block != null && position < block.state.length && block.state[position] == ACTIVE) {
            block.lastSeen[position] = now;
        }
    }

    /** The block's activity if it has tracked runs, else null. */
    Block find(String key) {
        return blocks.get(key);
    }

    /**
     * A RunFinished of the run waits for its last iterations: the run is tracked (from now) so that the wait
     * ends after the timeout at the latest; a run reported silent is timed again and still announced
     * active by its next record.
     */
    void awaitingRecords(Block block, int position, long now) {
        if (block == null) {
            return;
        }
        block.ensure(position);
        byte was = block.state[position];
        if (was == UNTRACKED) {
            block.tracked++;
            block.state[position] = ACTIVE;
        } else if (was == SILENT) {
            block.state[position] = RESTORED;
        }
        block.lastSeen[position] = now;
    }

    /** Tracks a run rebuilt from the store after a restart, as if seen at {@code now}. */
    void restored(String key, String experimentId, int position, long now) {
        Block block = block(key, experimentId);
        if (block == null) {
            return;
        }
        block.ensure(position);
        if (block.state[position] == UNTRACKED) {
            block.tracked++;
        }
        block.state[position] = RESTORED;
        block.lastSeen[position] = now;
    }

    /** Stops tracking a run (it finished). */
    void forget(String key, int position) {
        Block block = blocks.get(key);
        if (block == null || position >= block.state.length || block.state[position] == UNTRACKED) {
            return;
        }
        block.state[position] = UNTRACKED;
        if (--block.tracked == 0) {
            blocks.remove(block.key);
        }
    }

    /** The runs silent for the timeout at {@code now} and not reported before; each is reported once per silence. */
    List<Silent> silentRuns(long now) {
        List<Silent> silent = new ArrayList<>();
        if (!enabled()) {
            return silent;
        }
        for (Block block : blocks.values()) {
            for (int position = 0; position < block.state.length; position++) {
                byte state = block.state[position];
                if ((state == ACTIVE || state == RESTORED) && now - block.lastSeen[position] >= timeoutMillis) {
                    block.state[position] = SILENT;
                    silent.add(new Silent(block.key, block.experimentId, position));
                }
            }
        }
        return silent;
    }

    /** Forgets everything (a processor initialised again). */
    void clear() {
        blocks.clear();
    }
}
