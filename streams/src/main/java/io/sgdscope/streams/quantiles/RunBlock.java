package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.streams.internals.Codec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The state of the runs whose iterations travel under one frame key (store
 * {@value QuantilesTopology#RUN_STATE_STORE}): a trainer's block of runs, or one run that publishes alone
 * (then the key is its run id). One store entry per block, so a commit writes one entry per block however
 * many runs it holds. The runs are kept in the order they were first seen, which for a block is the
 * column order of its frames.
 *
 * <p>Stored in format 2 (the experiment id once, then each run's id and {@link RunState}); an entry of
 * format 1 (a run's state stored alone under its run id, before blocks) is read as a block of that one run,
 * whose id the processor fills in from the key ({@link #adoptKey}).
 */
final class RunBlock {

    private static final byte FORMAT = 2;

    private final String experimentId;
    private String[] runIds;
    private RunState[] runs;
    private int size;
    /** Run id to position; built on first use. */
    private Map<String, Integer> positions;
    /** 0, 1, ..., size − 1: the positions of a frame whose columns are the block's runs in order. */
    private int[] inOrder = new int[0];
    /** Runs with a RunFinished waiting for their last iterations. */
    private int pendingFinishes;
    /** The run ids of the last frame whose columns were not the block's order, and their positions (not stored). */
    private String[] lastLayout;
    private int[] lastPositions;

    private RunBlock(String experimentId, String[] runIds, RunState[] runs, int size) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.runIds = runIds;
        this.runs = runs;
        this.size = size;
        for (int i = 0; i < size; i++) {
            if (runs[i].pendingFinish() != null) {
                pendingFinishes++;
            }
        }
    }

    static RunBlock empty(String experimentId) {
        return new RunBlock(experimentId, new String[1], new RunState[1], 0);
    }

    String experimentId() {
        return experimentId;
    }

    int size() {
        return size;
    }

    String runId(int position) {
        return runIds[position];
    }

    RunState run(int position) {
        return runs[position];
    }

    /** Runs whose RunFinished waits for their last iterations. */
    int pendingFinishes() {
        return pendingFinishes;
    }

    void deferFinish(int position, RunState.PendingFinish finish) {
        if (runs[position].pendingFinish() == null) {
            pendingFinishes++;
        }
        runs[position].deferFinish(finish);
    }

    /** Marks the run finished (a pending finish taking effect, or a RunFinished in time). */
    void finish(int position) {
        if (runs[position].pendingFinish() != null) {
            pendingFinishes--;
        }
        runs[position].finish();
    }

    /** The run's position, adding it (fresh) if the block has not seen it. */
    int positionOf(String runId) {
        Integer known = positions().get(runId);
        return known != null ? known : add(runId);
    }

    /** The run's position, or −1. */
    int find(String runId) {
        Integer known = positions().get(runId);
        return known == null ? -1 : known;
    }

    /**
     * The position of each of the frame's runs, in column order, adding the runs not seen before. A frame
     * whose runs are exactly the block's, in order, or exactly the last frame's, in its order (the usual cases),
     * is checked by comparing ids, without hashing. The array returned is shared: do not change it.
     */
    int[] positionsOf(Frame frame) {
        int n = frame.size();
        if (n == size) {
            boolean same = true;
            for (int i = 0; i < n && same; i++) {
                same = runIds[i].equals(frame.runId(i));
            }
            if (same) {
                if (inOrder.length != n) {
                    inOrder = new int[n];
                    Arrays.setAll(inOrder, i -> i);
                }
                return inOrder;
            }
        }
        if (lastLayout != null && lastLayout.length == n) {
            // The runs' starts may have come in another order than the columns: the frames of a block then all
            // share one other layout, checked by comparing ids with the last frame's, without hashing.
            boolean same = true;
            for (int i = 0; i < n && same; i++) {
                same = lastLayout[i].equals(frame.runId(i));
            }
            if (same) {
                return lastPositions;
            }
        }
        int[] result = new int[n];
        String[] layout = new String[n];
        for (int i = 0; i < n; i++) {
            layout[i] = frame.runId(i);
            result[i] = positionOf(layout[i]);
        }
        lastLayout = layout;
        lastPositions = result;
        return result;
    }

    /** Fills in the run id of a block read from format 1 (a run's state stored alone under its run id). */
    void adoptKey(String key) {
        if (size == 1 && runIds[0] == null) {
            runIds[0] = key;
            positions = null;
        }
    }

    private int add(String runId) {
        if (size == runIds.length) {
            runIds = Arrays.copyOf(runIds, Math.max(4, size * 2));
            runs = Arrays.copyOf(runs, runIds.length);
        }
        runIds[size] = runId;
        runs[size] = RunState.fresh(experimentId);
        positions().put(runId, size);
        return size++;
    }

    private Map<String, Integer> positions() {
        if (positions == null) {
            positions = new HashMap<>(Math.max(4, size * 2));
            for (int i = 0; i < size; i++) {
                if (runIds[i] != null) {
                    positions.put(runIds[i], i);
                }
            }
        }
        return positions;
    }

    static Serde<RunBlock> serde() {
        // As Codec.serde, with the output sized for the block at once (a block of 500 runs is some 20 KB).
        return Serdes.serdeFrom((topic, block) -> {
            if (block == null) {
                return null;
            }
            Codec.Out out = new Codec.Out(64 + 48 * block.size);
            out.writeByte(FORMAT);
            write(out, block);
            return out.toByteArray();
        }, (topic, bytes) -> bytes == null ? null : Codec.read(topic, bytes, RunBlock::read));
    }

    private static void write(Codec.Out out, RunBlock block) {
        out.writeUTF(block.experimentId);
        out.writeInt(block.size);
        for (int i = 0; i < block.size; i++) {
            out.writeUTF(block.runIds[i]);
            block.runs[i].writeTo(out);
        }
    }

    private static RunBlock read(Codec.In in, byte format) {
        if (format == RunState.FORMAT_ALONE) {
            RunState alone = RunState.readAlone(in);
            return new RunBlock(alone.experimentId(), new String[1], new RunState[] {alone}, 1);
        }
        if (format != FORMAT) {
            throw Codec.unknownFormat(format, "run block");
        }
        String experimentId = in.readUTF();
        int size = in.readInt();
        String[] runIds = new String[Math.max(1, size)];
        RunState[] runs = new RunState[runIds.length];
        for (int i = 0; i < size; i++) {
            runIds[i] = in.readUTF();
            runs[i] = RunState.readFrom(in, experimentId);
        }
        return new RunBlock(experimentId, runIds, runs, size);
    }
}
