package io.sgdscope.streams.runs;

import io.sgdscope.streams.internals.Codec;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pairs iteration t of a run with iteration t + 1 to make the step t → t + 1, whatever order the
 * two arrive in: Δ_t(f) = f(θ_{t+1}) − f(θ_t) (Eq. 22) needs both losses, and the checks of
 * Theorem 1 need what was measured at θ_t as well.
 *
 * <p>An iteration's entry is kept while one of its neighbours is still missing (t + 1 for its own
 * step, t − 1 for the step before), so in-order runs hold one entry. At most {@value #MAX_PENDING}
 * entries are kept: a run that lost records (a dropped send) does not grow without bound; the oldest
 * entries go first.
 *
 * @param <P> what a step needs from θ_t besides the loss (nothing, for the quantiles)
 */
public final class StepPairing<P> {

    static final int MAX_PENDING = 64;

    /** A completed step t → t + 1. */
    public record Step<P>(int iteration, double loss, P atTheta, double nextLoss) {

        /** Δ_t(f) = f(θ_{t+1}) − f(θ_t), Eq. 22. */
        public double lossDelta() {
            return nextLoss - loss;
        }
    }

    /** Receives completed steps. */
    @FunctionalInterface
    public interface StepSink<P> {
        void accept(Step<P> step);
    }

    /** Writes and reads the payload of an entry. */
    public interface PayloadCodec<P> {
        void write(Codec.Out out, P payload);

        P read(Codec.In in);
    }

    private record Entry<P>(double loss, P payload) {}

    private final TreeMap<Integer, Entry<P>> pending;

    public StepPairing() {
        this(new TreeMap<>());
    }

    private StepPairing(TreeMap<Integer, Entry<P>> pending) {
        this.pending = pending;
    }

    /**
     * Adds iteration t (once per t: the caller drops duplicates first) and hands over the steps it
     * completes: t − 1 → t and/or t → t + 1.
     *
     * @param seen the iterations of the run so far, t included
     * @param payload what the step from t needs besides the loss; null if t can only end a step
     *                (f(θ_T) after the last update)
     */
    public void add(int t, double loss, P payload, IterationSet seen, StepSink<P> sink) {
        Entry<P> before = pending.get(t - 1);
        if (before != null && before.payload() != null) {
            sink.accept(new Step<>(t - 1, before.loss(), before.payload(), loss));
        }
        Entry<P> after = pending.get(t + 1);
        if (payload != null && after != null) {
            sink.accept(new Step<>(t, loss, payload, after.loss()));
        }
        pending.put(t, new Entry<>(loss, payload));
        for (int u = t - 1; u <= t + 1; u++) {
            if (pending.containsKey(u) && !needed(u, seen)) {
                pending.remove(u);
            }
        }
        while (pending.size() > MAX_PENDING) {
            pending.pollFirstEntry();
        }
    }

    /** Forgets everything (the run is over). */
    public void clear() {
        pending.clear();
    }

    public int pendingCount() {
        return pending.size();
    }

    /** An entry is needed while one of the steps it belongs to can still complete. */
    private boolean needed(int u, IterationSet seen) {
        boolean ownStepOpen = pending.get(u).payload() != null && !seen.contains(u + 1);
        boolean stepBeforeOpen = u > 0 && !seen.contains(u - 1);
        return ownStepOpen || stepBeforeOpen;
    }

    public void writeTo(Codec.Out out, PayloadCodec<P> codec) {
        out.writeShort(pending.size());
        for (Map.Entry<Integer, Entry<P>> entry : pending.entrySet()) {
            out.writeInt(entry.getKey());
            out.writeDouble(entry.getValue().loss());
            P payload = entry.getValue().payload();
            out.writeBoolean(payload != null);
            if (payload != null) {
                codec.write(out, payload);
            }
        }
    }

    public static <P> StepPairing<P> readFrom(Codec.In in, PayloadCodec<P> codec) {
        int count = in.readShort();
        TreeMap<Integer, Entry<P>> pending = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            int t = in.readInt();
            double loss = in.readDouble();
            P payload = in.readBoolean() ? codec.read(in) : null;
            pending.put(t, new Entry<>(loss, payload));
        }
        return new StepPairing<>(pending);
    }
}
