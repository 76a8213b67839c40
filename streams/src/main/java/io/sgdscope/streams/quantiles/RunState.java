package io.sgdscope.streams.quantiles;

import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.IterationSet;
import io.sgdscope.streams.runs.StepPairing;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * What the quantiles app remembers of one run (store {@value QuantilesTopology#RUN_STATE_STORE}, keyed
 * by runId): the iterations and snapshots counted (to count each once), the losses waiting for their
 * neighbour to make Δ_t, whether the run finished (later records are late), and for a watched run its
 * rolling windows. Plain mutable state, owned by one stream task; stored as bytes.
 */
final class RunState {

    private static final byte FORMAT = 1;
    private static final int FINISHED = 1;
    private static final int WATCHED = 2;
    private static final int STARTED = 4;

    /** The payload of a pairing entry that can start a step (the quantiles need nothing but the loss). */
    static final StepPairing.PayloadCodec<Boolean> NO_PAYLOAD = new StepPairing.PayloadCodec<>() {
        @Override
        public void write(Codec.Out out, Boolean payload) {}

        @Override
        public Boolean read(Codec.In in) {
            return Boolean.TRUE;
        }
    };

    private final String experimentId;
    private int flags;
    private int runIndex = -1;
    private final IterationSet iterations;
    private final IterationSet snapshots;
    private final StepPairing<Boolean> losses;
    private final Map<String, RollingWindow> rolling;

    private RunState(String experimentId, int flags, int runIndex, IterationSet iterations, IterationSet snapshots,
                     StepPairing<Boolean> losses, Map<String, RollingWindow> rolling) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.flags = flags;
        this.runIndex = runIndex;
        this.iterations = iterations;
        this.snapshots = snapshots;
        this.losses = losses;
        this.rolling = rolling;
    }

    static RunState fresh(String experimentId) {
        return new RunState(experimentId, 0, -1, new IterationSet(), new IterationSet(), new StepPairing<>(),
                new LinkedHashMap<>());
    }

    String experimentId() {
        return experimentId;
    }

    IterationSet iterations() {
        return iterations;
    }

    IterationSet snapshots() {
        return snapshots;
    }

    StepPairing<Boolean> losses() {
        return losses;
    }

    boolean finished() {
        return (flags & FINISHED) != 0;
    }

    /** Marks the run finished and drops what only an unfinished run needs. */
    void finish() {
        flags |= FINISHED;
        losses.clear();
    }

    boolean started() {
        return (flags & STARTED) != 0;
    }

    int runIndex() {
        return runIndex;
    }

    void start(int index, boolean watched) {
        flags |= STARTED;
        runIndex = index;
        if (watched) {
            flags |= WATCHED;
        }
    }

    boolean watched() {
        return (flags & WATCHED) != 0;
    }

    /** The rolling window of a metric of a watched run, made on first use. */
    RollingWindow rolling(String metric, int size) {
        return rolling.computeIfAbsent(metric, name -> new RollingWindow(size));
    }

    Map<String, RollingWindow> rollingWindows() {
        return rolling;
    }

    static Serde<RunState> serde() {
        return Codec.serde(FORMAT, RunState::write, RunState::read);
    }

    private static void write(Codec.Out out, RunState state) {
        out.writeUTF(state.experimentId);
        out.writeByte(state.flags);
        out.writeInt(state.runIndex);
        state.iterations.writeTo(out);
        state.snapshots.writeTo(out);
        state.losses.writeTo(out, NO_PAYLOAD);
        out.writeByte(state.rolling.size());
        for (Map.Entry<String, RollingWindow> entry : state.rolling.entrySet()) {
            out.writeUTF(entry.getKey());
            entry.getValue().writeTo(out);
        }
    }

    private static RunState read(Codec.In in, byte format) {
        if (format != FORMAT) {
            throw Codec.unknownFormat(format, "run state");
        }
        String experimentId = in.readUTF();
        int flags = in.readByte();
        int runIndex = in.readInt();
        IterationSet iterations = IterationSet.readFrom(in);
        IterationSet snapshots = IterationSet.readFrom(in);
        StepPairing<Boolean> losses = StepPairing.readFrom(in, NO_PAYLOAD);
        int windows = in.readByte();
        Map<String, RollingWindow> rolling = new LinkedHashMap<>();
        for (int i = 0; i < windows; i++) {
            rolling.put(in.readUTF(), RollingWindow.readFrom(in));
        }
        return new RunState(experimentId, flags, runIndex, iterations, snapshots, losses, rolling);
    }
}
