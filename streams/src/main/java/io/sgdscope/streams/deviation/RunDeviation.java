package io.sgdscope.streams.deviation;

import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.IterationSet;
import io.sgdscope.streams.runs.StepPairing;
import java.util.Objects;

/**
 * What the deviation app remembers of one run (one entry of its block's {@link BlockDeviation}): the
 * iterations counted, the iterations waiting for their neighbour, the exceedance window, the cumulative
 * martingale and the running maxima of Theorem 2's constants, which alerts are "on" (an alert is raised
 * when its condition starts to hold, not again while it keeps holding), and a RunFinished waiting for
 * iterations it says were published. Plain mutable state, owned by one stream task.
 *
 * <p>Pairing t with t + 1 (Δ_t, Eq. 22): a run whose iterations arrive in order holds one iteration, the
 * latest, in primitive fields (no object per iteration); anything else (a gap, an iteration out of order,
 * the f(θ_T) of a RunFinished) moves the run to a {@link StepPairing}, and back once it again holds just
 * its latest iteration. Both give exactly the steps StepPairing alone would give.
 */
final class RunDeviation {

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

    /** Receives the steps t → t + 1 a new iteration completes. */
    @FunctionalInterface
    interface StepReceiver {
        /**
         * @param atTheta what was measured at θ_t, or null where Eq. 27's interval cannot be evaluated (η, ‖μ‖², L or
         *                Tr M not computed at t)
         */
        void step(RunDeviation run, int t, double lossDelta, MomentsAtTheta atTheta);
    }

    /** The run's id; null only while a block read in format 1 has not been told its key. */
    String runId;
    final String experimentId;
    private int flags;
    int runIndex = -1;
    int optimizer = OPTIMIZER_UNKNOWN;
    String optimizerName = "";
    long parameterCount = -1;
    final IterationSet iterations;
    /** f at the run's earliest iteration seen (θ_0 once iteration 0 arrived). */
    double initialLoss = Double.NaN;
    int initialIteration = -1;

    /** The run's latest iteration while it is the only one waiting for a neighbour (−1: none), with what it measured. */
    private int latest = -1;
    private double latestLoss;
    private double latestStepSize;
    private int latestBatchSize;
    private double latestGradNormSq;
    private double latestTraceM;
    private double latestHessianNorm;
    private double latestSigmaHalfMuNorm;
    private double latestSigmaFrobenius;
    private double latestSigmaSpectral;
    /** The iterations waiting for a neighbour when that is not just the latest; null otherwise. */
    private StepPairing<MomentsAtTheta> pairing;

    /** The exceedance window: a ring of the last {@code window} checked steps, one bit each. */
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

    /** A RunFinished processed before all the iterations it says were published: that count (t = 0 .. n − 1); −1 if none. */
    int awaitedIterations = -1;

    private RunDeviation(String runId, String experimentId, int window, IterationSet iterations) {
        this.runId = runId;
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.window = window;
        this.windowBits = new long[(window + 63) / 64];
        this.iterations = iterations;
    }

    static RunDeviation fresh(String runId, String experimentId, int window) {
        return new RunDeviation(Objects.requireNonNull(runId, "runId"), experimentId, window, new IterationSet());
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

    /** The run is over: later records are late; nothing waits for a neighbour any more. */
    void finish() {
        set(FINISHED, true);
        awaitedIterations = -1;
        latest = -1;
        pairing = null;
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

    /** Iterations waiting for a neighbour (as StepPairing counts them). */
    int pendingCount() {
        return pairing != null ? pairing.pendingCount() : latest >= 0 ? 1 : 0;
    }

    /**
     * Adds iteration t, not yet counted in {@link #iterations} (the caller skips duplicates: {@code
     * iterations.contains(t)}), with what was measured at θ_t (NaN where not computed), counts it, and hands over
     * the steps it completes: t − 1 → t and/or t → t + 1.
     */
    void addIteration(int t, double loss, double stepSize, int batchSize, double gradNormSq, double traceM,
                      double hessianNorm, double sigmaHalfMuNorm, double sigmaFrobenius, double sigmaSpectral,
                      StepReceiver receiver) {
        boolean newest = t > iterations.max();
        if (pairing == null && newest) {
            if (latest < 0) {                                   // nothing waits: t waits for t + 1
                iterations.add(t);
                keepLatest(t, loss, stepSize, batchSize, gradNormSq, traceM, hessianNorm, sigmaHalfMuNorm,
                        sigmaFrobenius, sigmaSpectral);
                return;
            }
            if (latest == t - 1 && (latest == 0 || iterations.contains(latest - 1))) { // in order: t − 1 → t, t waits
                iterations.add(t);
                int previous = latest;
                double previousLoss = latestLoss;
                MomentsAtTheta at = latestHasInterval() ? latestMoments() : null;
                keepLatest(t, loss, stepSize, batchSize, gradNormSq, traceM, hessianNorm, sigmaHalfMuNorm,
                        sigmaFrobenius, sigmaSpectral);
                receiver.step(this, previous, loss - previousLoss, at);   // Eq. 22
                return;
            }
        }
        StepPairing<MomentsAtTheta> steps = pairing(); // before t is counted: the latest iteration moves over as it was
        iterations.add(t);
        MomentsAtTheta at = new MomentsAtTheta(stepSize, batchSize, gradNormSq, traceM, hessianNorm, sigmaHalfMuNorm,
                sigmaFrobenius, sigmaSpectral);
        steps.add(t, loss, at, iterations, step -> receiver.step(this, step.iteration(), step.lossDelta(),
                step.atTheta().hasInterval() ? step.atTheta() : null));
        if (newest && steps.pendingCount() == 1) {              // only t waits (for t + 1): back to the fields
            pairing = null;
            keepLatest(t, loss, stepSize, batchSize, gradNormSq, traceM, hessianNorm, sigmaHalfMuNorm, sigmaFrobenius,
                    sigmaSpectral);
        }
    }

    /**
     * Adds f(θ_T), not yet counted in {@link #iterations}, and counts it: it can only end the step T − 1 → T
     * (RunFinished's loss after the last update).
     */
    void addEnd(int end, double loss, StepReceiver receiver) {
        StepPairing<MomentsAtTheta> steps = pairing();
        iterations.add(end);
        steps.add(end, loss, null, iterations, step -> receiver.step(this, step.iteration(), step.lossDelta(),
                step.atTheta().hasInterval() ? step.atTheta() : null));
    }

    /** Whether every iteration below {@code count} has arrived (iterations given up on count as arrived). */
    boolean arrivedBelow(int count) {
        int max = iterations.max();
        if (max <= count) {
            // every iteration present is in 0 .. max ≤ count, count() of them (f(θ_T) at T = count may be one)
            return iterations.count() - (max == count ? 1 : 0) >= count;
        }
        for (int t = 0; t < count; t++) { // iterations beyond the end the run declared: look one by one
            if (!iterations.contains(t)) {
                return false;
            }
        }
        return true;
    }

    /** The steps so far as StepPairing holds them: moves the latest iteration there. */
    private StepPairing<MomentsAtTheta> pairing() {
        if (pairing == null) {
            pairing = new StepPairing<>();
            if (latest >= 0) {
                // An empty pairing completes no step: this only puts the latest iteration back where it waits.
                pairing.add(latest, latestLoss, latestMoments(), iterations, step -> {
                    throw new IllegalStateException("no step can complete in an empty pairing");
                });
                latest = -1;
            }
        }
        return pairing;
    }

    private void keepLatest(int t, double loss, double stepSize, int batchSize, double gradNormSq, double traceM,
                            double hessianNorm, double sigmaHalfMuNorm, double sigmaFrobenius, double sigmaSpectral) {
        latest = t;
        latestLoss = loss;
        latestStepSize = stepSize;
        latestBatchSize = batchSize;
        latestGradNormSq = gradNormSq;
        latestTraceM = traceM;
        latestHessianNorm = hessianNorm;
        latestSigmaHalfMuNorm = sigmaHalfMuNorm;
        latestSigmaFrobenius = sigmaFrobenius;
        latestSigmaSpectral = sigmaSpectral;
    }

    /** As {@link MomentsAtTheta#hasInterval()}, without making one. */
    private boolean latestHasInterval() {
        return Double.isFinite(latestStepSize) && Double.isFinite(latestGradNormSq) && Double.isFinite(latestTraceM)
                && Double.isFinite(latestHessianNorm);
    }

    private MomentsAtTheta latestMoments() {
        return new MomentsAtTheta(latestStepSize, latestBatchSize, latestGradNormSq, latestTraceM, latestHessianNorm,
                latestSigmaHalfMuNorm, latestSigmaFrobenius, latestSigmaSpectral);
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

    // ---- Stored form: format 2 inside a block (BlockDeviation), format 1 alone (a run's entry before frames).

    private static final int HAS_LATEST = 1;
    private static final int HAS_PAIRING = 2;
    private static final int OWN_EXPERIMENT = 4;

    /** Format 2: the run inside its block, whose experiment id is written once for all. */
    void writeTo(Codec.Out out, String blockExperimentId) {
        out.writeUTF(runId);
        int parts = (latest >= 0 ? HAS_LATEST : 0) | (pairing != null ? HAS_PAIRING : 0)
                | (experimentId.equals(blockExperimentId) ? 0 : OWN_EXPERIMENT);
        out.writeByte(parts);
        if ((parts & OWN_EXPERIMENT) != 0) {
            out.writeUTF(experimentId);
        }
        out.writeByte(flags);
        out.writeInt(runIndex);
        out.writeByte(optimizer);
        out.writeUTF(optimizerName);
        out.writeLong(parameterCount);
        iterations.writeTo(out);
        if (latest >= 0) {
            out.writeInt(latest);
            out.writeDouble(latestLoss);
            latestMoments().writeTo(out);
        }
        if (pairing != null) {
            pairing.writeTo(out, MOMENTS);
        }
        out.writeDouble(initialLoss);
        out.writeInt(initialIteration);
        writeWindowAndSums(out);
        out.writeInt(awaitedIterations);
    }

    static RunDeviation readFrom(Codec.In in, String blockExperimentId, int window) {
        String runId = in.readUTF();
        int parts = in.readByte();
        String experimentId = (parts & OWN_EXPERIMENT) != 0 ? in.readUTF() : blockExperimentId;
        int flags = in.readByte();
        int runIndex = in.readInt();
        int optimizer = in.readByte();
        String optimizerName = in.readUTF();
        long parameterCount = in.readLong();
        RunDeviation state = new RunDeviation(runId, experimentId, window, IterationSet.readFrom(in));
        state.flags = flags;
        state.runIndex = runIndex;
        state.optimizer = optimizer;
        state.optimizerName = optimizerName;
        state.parameterCount = parameterCount;
        if ((parts & HAS_LATEST) != 0) {
            int latest = in.readInt();
            double loss = in.readDouble();
            MomentsAtTheta at = MomentsAtTheta.readFrom(in);
            state.keepLatest(latest, loss, at.stepSize(), at.batchSize(), at.gradNormSq(), at.traceM(), at.hessianNorm(),
                    at.sigmaHalfMuNorm(), at.sigmaFrobenius(), at.sigmaSpectral());
        }
        if ((parts & HAS_PAIRING) != 0) {
            state.pairing = StepPairing.readFrom(in, MOMENTS);
        }
        state.initialLoss = in.readDouble();
        state.initialIteration = in.readInt();
        state.readWindowAndSums(in);
        state.awaitedIterations = in.readInt();
        return state;
    }

    /**
     * Format 1: a run's state as the deviation app kept it before frames, one entry per run keyed by its id
     * (which the value does not hold: {@link #runId} stays null until the caller sets it from the key).
     */
    static RunDeviation readFormat1(Codec.In in, int window) {
        String experimentId = in.readUTF();
        int flags = in.readByte();
        int runIndex = in.readInt();
        int optimizer = in.readByte();
        String optimizerName = in.readUTF();
        long parameterCount = in.readLong();
        RunDeviation state = new RunDeviation(null, experimentId, window, IterationSet.readFrom(in));
        state.pairing = StepPairing.readFrom(in, MOMENTS);
        state.flags = flags;
        state.runIndex = runIndex;
        state.optimizer = optimizer;
        state.optimizerName = optimizerName;
        state.parameterCount = parameterCount;
        state.initialLoss = in.readDouble();
        state.initialIteration = in.readInt();
        state.readWindowAndSums(in);
        return state;
    }

    private void writeWindowAndSums(Codec.Out out) {
        out.writeInt(window);
        out.writeInt(windowBits.length);
        for (long bits : windowBits) {
            out.writeLong(bits);
        }
        out.writeInt(windowPosition);
        out.writeInt(windowFilled);
        out.writeInt(exceedances);
        out.writeDouble(martingale);
        out.writeDouble(biasAllowance);
        out.writeLong(terms);
        out.writeDouble(maxStepSize);
        out.writeDouble(maxGradNorm);
        out.writeDouble(maxSigmaSpectral);
        out.writeDouble(maxHessianNorm);
        out.writeInt(minBatchSize);
    }

    private void readWindowAndSums(Codec.In in) {
        int storedWindow = in.readInt();
        long[] stored = new long[in.readInt()];
        for (int i = 0; i < stored.length; i++) {
            stored[i] = in.readLong();
        }
        int position = in.readInt();
        int filled = in.readInt();
        int storedExceedances = in.readInt();
        if (storedWindow == window) {
            System.arraycopy(stored, 0, windowBits, 0, stored.length);
            windowPosition = position;
            windowFilled = filled;
            exceedances = storedExceedances;
        } // else the window setting changed: start the window afresh
        martingale = in.readDouble();
        biasAllowance = in.readDouble();
        terms = in.readLong();
        maxStepSize = in.readDouble();
        maxGradNorm = in.readDouble();
        maxSigmaSpectral = in.readDouble();
        maxHessianNorm = in.readDouble();
        minBatchSize = in.readInt();
    }
}
