package io.sgdscope.streams.deviation;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.streams.internals.Codec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * The deviation state of a block of runs whose iterations travel together (store {@value
 * DeviationTopology#RUN_DEVIATION_STORE}, keyed by the frame key: the block's first run id, or the run's own id
 * when it publishes per run): one {@link RunDeviation} per run, in the order the block's frames list them, in
 * one store entry, so that a commit writes one entry per block, not one per run.
 *
 * <p>Stored as format 2: the experiment id once, then the runs. Format 1, one run's state alone under its run
 * id (what the deviation app stored before frames), is still read, as a block of that one run (its id comes
 * from the key: {@link #adoptKey}). Plain mutable state, owned by one stream task.
 */
final class BlockDeviation {

    private static final byte FORMAT = 2;
    private static final byte FORMAT_ONE_RUN = 1;

    final String experimentId;
    private RunDeviation[] runs;
    private int size;
    /** Slot by run id, built when a run is looked up by id rather than by its place in a frame. */
    private HashMap<String, Integer> slots;

    private BlockDeviation(String experimentId, RunDeviation[] runs, int size) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.runs = runs;
        this.size = size;
    }

    static BlockDeviation fresh(String experimentId) {
        return new BlockDeviation(experimentId, new RunDeviation[4], 0);
    }

    /** How many runs the block holds. */
    int size() {
        return size;
    }

    RunDeviation run(int slot) {
        return runs[slot];
    }

    /**
     * Whether the run in column {@code column} of a frame is the block's run in that slot: the usual case once the
     * block is {@link #alignTo aligned} with its frames, when no lookup is needed.
     */
    boolean inColumn(int column, String runId) {
        return column < size && runId.equals(runs[column].runId);
    }

    /** The run of this id, added (fresh) if the block does not hold it yet. */
    RunDeviation run(String runId, String runExperimentId, int window) {
        RunDeviation found = find(runId);
        if (found != null) {
            return found;
        }
        RunDeviation fresh = RunDeviation.fresh(runId, runExperimentId, window);
        if (size == runs.length) {
            runs = Arrays.copyOf(runs, Math.max(4, size * 2));
        }
        runs[size] = fresh;
        if (slots != null) {
            slots.put(runId, size);
        }
        size++;
        return fresh;
    }

    /** The run of this id, or null. */
    RunDeviation find(String runId) {
        int slot = slotOf(runId);
        return slot < 0 ? null : runs[slot];
    }

    /**
     * Puts the frame's runs first, in the frame's order, the others after them: later frames of the block then
     * find each run in its own column without a lookup (starts may have added the runs in another order, and a
     * frame may leave out runs that ended).
     */
    void alignTo(Frame frame) {
        RunDeviation[] ordered = new RunDeviation[runs.length];
        boolean[] placed = new boolean[size];
        int next = 0;
        for (int column = 0; column < frame.size(); column++) {
            int slot = slotOf(frame.runId(column));
            if (slot >= 0 && !placed[slot]) {
                placed[slot] = true;
                ordered[next++] = runs[slot];
            }
        }
        for (int slot = 0; slot < size; slot++) {
            if (!placed[slot]) {
                ordered[next++] = runs[slot];
            }
        }
        runs = ordered;
        slots = null;
    }

    private int slotOf(String runId) {
        if (size <= 8) {
            for (int i = 0; i < size; i++) {
                if (runId.equals(runs[i].runId)) {
                    return i;
                }
            }
            return -1;
        }
        if (slots == null) {
            slots = new HashMap<>(size * 2);
            for (int i = 0; i < size; i++) {
                slots.put(runs[i].runId, i);
            }
        }
        Integer slot = slots.get(runId);
        return slot == null ? -1 : slot;
    }

    /** A block read in format 1 holds one run whose id was its key: gives it that id. */
    void adoptKey(String key) {
        if (size == 1 && runs[0].runId == null) {
            runs[0].runId = key;
        }
    }

    static Serde<BlockDeviation> serde(int window) {
        return Codec.serde(FORMAT, BlockDeviation::write, (in, format) -> read(in, format, window));
    }

    private static void write(Codec.Out out, BlockDeviation block) {
        out.writeUTF(block.experimentId);
        out.writeInt(block.size);
        for (int i = 0; i < block.size; i++) {
            block.runs[i].writeTo(out, block.experimentId);
        }
    }

    private static BlockDeviation read(Codec.In in, byte format, int window) {
        if (format == FORMAT_ONE_RUN) {
            RunDeviation run = RunDeviation.readFormat1(in, window);
            return new BlockDeviation(run.experimentId, new RunDeviation[] {run}, 1);
        }
        if (format != FORMAT) {
            throw Codec.unknownFormat(format, "deviation state");
        }
        String experimentId = in.readUTF();
        int size = in.readInt();
        if (size < 0) {
            throw new IllegalArgumentException("a block of " + size + " runs");
        }
        RunDeviation[] runs = new RunDeviation[Math.max(4, size)];
        for (int i = 0; i < size; i++) {
            runs[i] = RunDeviation.readFrom(in, experimentId, window);
        }
        return new BlockDeviation(experimentId, runs, size);
    }
}
