package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.IterationSet;
import io.sgdscope.streams.runs.StepPairing;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the quantiles app remembers of one run (inside its block's {@link RunBlock}): the iterations and
 * snapshots counted (to count each once), the losses waiting for their neighbour to make Δ_t, whether the
 * run finished (later records are late) or has a RunFinished waiting for its last iterations
 * ({@link PendingFinish}), and for a watched run its rolling windows. Plain mutable state, owned by one
 * stream task.
 */
final class RunState {

    /** Format of a run state stored alone under its run id (before blocks); still read. */
    static final byte FORMAT_ALONE = 1;
    private static final int FINISHED = 1;
    private static final int WATCHED = 2;
    private static final int STARTED = 4;
    private static final int FINISH_PENDING = 8;

    /** The payload of a pairing entry that can start a step (the quantiles need nothing but the loss). */
    static final StepPairing.PayloadCodec<Boolean> NO_PAYLOAD = new StepPairing.PayloadCodec<>() {
        @Override
        public void write(Codec.Out out, Boolean payload) {}

        @Override
        public Boolean read(Codec.In in) {
            return Boolean.TRUE;
        }
    };

    /**
     * A RunFinished that arrived before all the iterations it announces had been counted (its RunFinished
     * crossed a repartition topic and overtook them): it takes effect once they are there, or once the run
     * has been silent for the stall timeout.
     *
     * @param lossAfterLastIteration f(θ_T), or null (see {@code RunInput.Finished#lossAfterLastIteration})
     */
    record PendingFinish(RunStatus status, int iterations, Double lossAfterLastIteration) {

        PendingFinish {
            Objects.requireNonNull(status, "status");
        }
    }

    private final String experimentId;
    private int flags;
    private int runIndex = -1;
    private final IterationSet iterations;
    private final IterationSet snapshots;
    private final StepPairing<Boolean> losses;
    private final Map<String, RollingWindow> rolling;
    private PendingFinish pendingFinish;

    private RunState(String experimentId, int flags, int runIndex, IterationSet iterations, IterationSet snapshots,
                     StepPairing<Boolean> losses, Map<String, RollingWindow> rolling, PendingFinish pendingFinish) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.flags = flags;
        this.runIndex = runIndex;
        this.iterations = iterations;
        this.snapshots = snapshots;
        this.losses = losses;
        this.rolling = rolling;
        this.pendingFinish = pendingFinish;
    }

    static RunState fresh(String experimentId) {
        return new RunState(experimentId, 0, -1, new IterationSet(), new IterationSet(), new StepPairing<>(),
                new LinkedHashMap<>(), null);
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
        pendingFinish = null;
        losses.clear();
    }

    /** The RunFinished waiting for the run's last iterations, or null. */
    PendingFinish pendingFinish() {
        return pendingFinish;
    }

    void deferFinish(PendingFinish finish) {
        pendingFinish = Objects.requireNonNull(finish, "finish");
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

    /** Writes the run's state without its experiment id (its block has it). */
    void writeTo(Codec.Out out) {
        out.writeByte(flags | (pendingFinish != null ? FINISH_PENDING : 0));
        out.writeInt(runIndex);
        iterations.writeTo(out);
        snapshots.writeTo(out);
        losses.writeTo(out, NO_PAYLOAD);
        out.writeByte(rolling.size());
        for (Map.Entry<String, RollingWindow> entry : rolling.entrySet()) {
            out.writeUTF(entry.getKey());
            entry.getValue().writeTo(out);
        }
        if (pendingFinish != null) {
            out.writeUTF(pendingFinish.status().name());
            out.writeInt(pendingFinish.iterations());
            out.writeDouble(Codec.orNaN(pendingFinish.lossAfterLastIteration()));
            out.writeBoolean(pendingFinish.lossAfterLastIteration() != null);
        }
    }

    /** Reads what {@link #writeTo} wrote. */
    static RunState readFrom(Codec.In in, String experimentId) {
        int flags = in.readByte();
        int runIndex = in.readInt();
        IterationSet iterations = IterationSet.readFrom(in);
        IterationSet snapshots = IterationSet.readFrom(in);
        StepPairing<Boolean> losses = StepPairing.readFrom(in, NO_PAYLOAD);
        Map<String, RollingWindow> rolling = readWindows(in);
        PendingFinish pending = null;
        if ((flags & FINISH_PENDING) != 0) {
            RunStatus status = RunStatus.valueOf(in.readUTF());
            int count = in.readInt();
            double loss = in.readDouble();
            pending = new PendingFinish(status, count, in.readBoolean() ? loss : null);
        }
        return new RunState(experimentId, flags & ~FINISH_PENDING, runIndex, iterations, snapshots, losses, rolling, pending);
    }

    /** Reads a run state stored alone in {@link #FORMAT_ALONE} (the format byte already read). */
    static RunState readAlone(Codec.In in) {
        String experimentId = in.readUTF();
        int flags = in.readByte();
        int runIndex = in.readInt();
        IterationSet iterations = IterationSet.readFrom(in);
        IterationSet snapshots = IterationSet.readFrom(in);
        StepPairing<Boolean> losses = StepPairing.readFrom(in, NO_PAYLOAD);
        return new RunState(experimentId, flags, runIndex, iterations, snapshots, losses, readWindows(in), null);
    }

    /** Writes a run state alone in {@link #FORMAT_ALONE}, as versions before blocks did (for tests of reading it). */
    static byte[] toBytesAlone(RunState state) {
        return Codec.write(FORMAT_ALONE, state, (out, run) -> {
            out.writeUTF(run.experimentId);
            out.writeByte(run.flags);
            out.writeInt(run.runIndex);
            run.iterations.writeTo(out);
            run.snapshots.writeTo(out);
            run.losses.writeTo(out, NO_PAYLOAD);
            out.writeByte(run.rolling.size());
            for (Map.Entry<String, RollingWindow> entry : run.rolling.entrySet()) {
                out.writeUTF(entry.getKey());
                entry.getValue().writeTo(out);
            }
        });
    }

    private static Map<String, RollingWindow> readWindows(Codec.In in) {
        int windows = in.readByte();
        Map<String, RollingWindow> rolling = new LinkedHashMap<>();
        for (int i = 0; i < windows; i++) {
            rolling.put(in.readUTF(), RollingWindow.readFrom(in));
        }
        return rolling;
    }
}
