package io.sgdscope.streams.deviation;

import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.IterationSet;
import io.sgdscope.streams.runs.StepPairing;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * What the deviation app remembers of one run (store {@value DeviationTopology#RUN_DEVIATION_STORE},
 * keyed by runId): the iterations counted, the iterations waiting for their neighbour, the exceedance
 * window, the cumulative martingale and the running maxima of Theorem 2's constants, and which alerts
 * are "on" (an alert is raised when its condition starts to hold, not again while it keeps holding).
 * Plain mutable state, owned by one stream task; stored as bytes.
 */
final class RunDeviation {

    private static final byte FORMAT = 1;

    static final int OPTIMIZER_UNKNOWN = 0;
    static final int OPTIMIZER_VANILLA = 1;
    static final int OPTIMIZER_ADAPTIVE = 2;

    private static final int FINISHED = 1;
    private static final int WATCHED = 2;
    private static final int STARTED = 4;
    private static final int DIVERGED = 8;
    private static final int EXCEEDANCES_SIGNIFICANT = 16;
    private static final int OUTSIDE_ENVELOPE = 32;
    private static final int SUPERMARTINGALE_BROKEN = 64;

    static final StepPairing.PayloadCodec<MomentsAtTheta> MOMENTS = new StepPairing.PayloadCodec<>() {
        @Override
        public void write(Codec.Out out, MomentsAtTheta payload) {
            payload.writeTo(out);
        }

        @Override
        public MomentsAtTheta read(Codec.In in) {
            return MomentsAtTheta.readFrom(in);
        }
    };

    final String experimentId;
    private int flags;
    int runIndex = -1;
    int optimizer = OPTIMIZER_UNKNOWN;
    String optimizerName = "";
    long parameterCount = -1;
    final IterationSet iterations;
    final StepPairing<MomentsAtTheta> steps;
    /** f at the run's earliest iteration seen (θ_0 once iteration 0 arrived). */
    double initialLoss = Double.NaN;
    int initialIteration = -1;

    /** The exceedance window: a ring of the last {@code windowBits.length * 64 ≥ window} checked steps. */
    final int window;
    final long[] windowBits;
    int windowPosition;
    int windowFilled;
    int exceedances;

    /** S_T = Σ (Δ_t − ê_t) and the bias allowance B_T = Σ (η²/2) L Tr M over the T checked steps. */
    double martingale;
    double biasAllowance;
    long terms;
    double maxStepSize;
    double maxGradNorm;
    double maxSigmaSpectral = Double.NaN;
    double maxHessianNorm;
    int minBatchSize = Integer.MAX_VALUE;

    private RunDeviation(String experimentId, int window, IterationSet iterations, StepPairing<MomentsAtTheta> steps) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.window = window;
        this.windowBits = new long[(window + 63) / 64];
        this.iterations = iterations;
        this.steps = steps;
    }

    static RunDeviation fresh(String experimentId, int window) {
        return new RunDeviation(experimentId, window, new IterationSet(), new StepPairing<>());
    }

    boolean is(int flag) {
        return (flags & flag) != 0;
    }

    void set(int flag, boolean on) {
        flags = on ? flags | flag : flags & ~flag;
    }

    boolean finished() {
        return is(FINISHED);
    }

    void finish() {
        set(FINISHED, true);
        steps.clear();
    }

    boolean started() {
        return is(STARTED);
    }

    void start(int index, String optimizerName, boolean vanilla, long parameters, boolean watched) {
        set(STARTED, true);
        runIndex = index;
        this.optimizerName = optimizerName;
        optimizer = vanilla ? OPTIMIZER_VANILLA : OPTIMIZER_ADAPTIVE;
        parameterCount = parameters;
        set(WATCHED, watched);
    }

    boolean watched() {
        return is(WATCHED);
    }

    boolean diverged() {
        return is(DIVERGED);
    }

    void markDiverged() {
        set(DIVERGED, true);
    }

    boolean exceedancesSignificant() {
        return is(EXCEEDANCES_SIGNIFICANT);
    }

    void exceedancesSignificant(boolean on) {
        set(EXCEEDANCES_SIGNIFICANT, on);
    }

    boolean outsideEnvelope() {
        return is(OUTSIDE_ENVELOPE);
    }

    void outsideEnvelope(boolean on) {
        set(OUTSIDE_ENVELOPE, on);
    }

    boolean supermartingaleBroken() {
        return is(SUPERMARTINGALE_BROKEN);
    }

    void supermartingaleBroken(boolean on) {
        set(SUPERMARTINGALE_BROKEN, on);
    }

    /** Pushes one checked step into the window of the last {@code window} steps. */
    void pushStep(boolean exceeded) {
        int word = windowPosition >>> 6;
        long bit = 1L << (windowPosition & 63);
        if (windowFilled == window) {
            if ((windowBits[word] & bit) != 0) {
                exceedances--;
            }
        } else {
            windowFilled++;
        }
        if (exceeded) {
            windowBits[word] |= bit;
            exceedances++;
        } else {
            windowBits[word] &= ~bit;
        }
        windowPosition = (windowPosition + 1) % window;
    }

    static Serde<RunDeviation> serde(int window) {
        return Codec.serde(FORMAT, RunDeviation::write, (in, format) -> read(in, format, window));
    }

    private static void write(Codec.Out out, RunDeviation state) {
        out.writeUTF(state.experimentId);
        out.writeByte(state.flags);
        out.writeInt(state.runIndex);
        out.writeByte(state.optimizer);
        out.writeUTF(state.optimizerName);
        out.writeLong(state.parameterCount);
        state.iterations.writeTo(out);
        state.steps.writeTo(out, MOMENTS);
        out.writeDouble(state.initialLoss);
        out.writeInt(state.initialIteration);
        out.writeInt(state.window);
        out.writeInt(state.windowBits.length);
        for (long bits : state.windowBits) {
            out.writeLong(bits);
        }
        out.writeInt(state.windowPosition);
        out.writeInt(state.windowFilled);
        out.writeInt(state.exceedances);
        out.writeDouble(state.martingale);
        out.writeDouble(state.biasAllowance);
        out.writeLong(state.terms);
        out.writeDouble(state.maxStepSize);
        out.writeDouble(state.maxGradNorm);
        out.writeDouble(state.maxSigmaSpectral);
        out.writeDouble(state.maxHessianNorm);
        out.writeInt(state.minBatchSize);
    }

    private static RunDeviation read(Codec.In in, byte format, int window) {
        if (format != FORMAT) {
            throw Codec.unknownFormat(format, "run deviation state");
        }
        String experimentId = in.readUTF();
        int flags = in.readByte();
        int runIndex = in.readInt();
        int optimizer = in.readByte();
        String optimizerName = in.readUTF();
        long parameterCount = in.readLong();
        IterationSet iterations = IterationSet.readFrom(in);
        StepPairing<MomentsAtTheta> steps = StepPairing.readFrom(in, MOMENTS);
        RunDeviation state = new RunDeviation(experimentId, window, iterations, steps);
        state.flags = flags;
        state.runIndex = runIndex;
        state.optimizer = optimizer;
        state.optimizerName = optimizerName;
        state.parameterCount = parameterCount;
        state.initialLoss = in.readDouble();
        state.initialIteration = in.readInt();
        int storedWindow = in.readInt();
        long[] stored = new long[in.readInt()];
        for (int i = 0; i < stored.length; i++) {
            stored[i] = in.readLong();
        }
        int position = in.readInt();
        int filled = in.readInt();
        int exceedances = in.readInt();
        if (storedWindow == window) {
            System.arraycopy(stored, 0, state.windowBits, 0, stored.length);
            state.windowPosition = position;
            state.windowFilled = filled;
            state.exceedances = exceedances;
        } // else the window setting changed: start the window afresh
        state.martingale = in.readDouble();
        state.biasAllowance = in.readDouble();
        state.terms = in.readLong();
        state.maxStepSize = in.readDouble();
        state.maxGradNorm = in.readDouble();
        state.maxSigmaSpectral = in.readDouble();
        state.maxHessianNorm = in.readDouble();
        state.minBatchSize = in.readInt();
        return state;
    }
}
