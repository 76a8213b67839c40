package io.sgdscope.streams.runs;

import io.sgdscope.streams.internals.Codec;
import java.util.Arrays;

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

    /** The pending iterations in increasing order, with their losses and payloads (sorted arrays: usually one entry). */
    private int[] iterations;
    private double[] losses;
    private Object[] payloads;
    private int size;

    public StepPairing() {
        this(4);
    }

    private StepPairing(int capacity) {
        iterations = new int[capacity];
        losses = new double[capacity];
        payloads = new Object[capacity];
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
        int before = indexOf(t - 1);
        if (before >= 0 && payloads[before] != null) {
            sink.accept(new Step<>(t - 1, losses[before], payload(before), loss));
        }
        int after = indexOf(t + 1);
        if (payload != null && after >= 0) {
            sink.accept(new Step<>(t, loss, payload, losses[after]));
        }
        put(t, loss, payload);
        for (int u = t - 1; u <= t + 1; u++) {
            int at = indexOf(u);
            if (at >= 0 && !needed(u, at, seen)) {
                removeAt(at);
            }
        }
        while (size > MAX_PENDING) {
            removeAt(0);
        }
    }

    /** Forgets everything (the run is over). */
    public void clear() {
        Arrays.fill(payloads, 0, size, null);
        size = 0;
    }

    public int pendingCount() {
        return size;
    }

    /** An entry is needed while one of the steps it belongs to can still complete. */
    private boolean needed(int u, int at, IterationSet seen) {
        boolean ownStepOpen = payloads[at] != null && !seen.contains(u + 1);
        boolean stepBeforeOpen = u > 0 && !seen.contains(u - 1);
        return ownStepOpen || stepBeforeOpen;
    }

    @SuppressWarnings("unchecked")
    private P payload(int at) {
        return (P) payloads[at];
    }

    /** The index of iteration t, or −1; searched from the end, where new iterations go. */
    private int indexOf(int t) {
        for (int i = size - 1; i >= 0; i--) {
            if (iterations[i] == t) {
                return i;
            }
            if (iterations[i] < t) {
                return -1;
            }
        }
        return -1;
    }

    /** Inserts (or replaces) iteration t in order. */
    private void put(int t, double loss, P payload) {
        int at = size;
        while (at > 0 && iterations[at - 1] > t) {
            at--;
        }
        if (at > 0 && iterations[at - 1] == t) {
            losses[at - 1] = loss;
            payloads[at - 1] = payload;
            return;
        }
        if (size == iterations.length) {
            int capacity = size * 2;
            iterations = Arrays.copyOf(iterations, capacity);
            losses = Arrays.copyOf(losses, capacity);
            payloads = Arrays.copyOf(payloads, capacity);
        }
        System.arraycopy(iterations, at, iterations, at + 1, size - at);
        System.arraycopy(losses, at, losses, at + 1, size - at);
        System.arraycopy(payloads, at, payloads, at + 1, size - at);
        iterations[at] = t;
        losses[at] = loss;
        payloads[at] = payload;
        size++;
    }

    private void removeAt(int at) {
        System.arraycopy(iterations, at + 1, iterations, at, size - at - 1);
        System.arraycopy(losses, at + 1, losses, at, size - at - 1);
        System.arraycopy(payloads, at + 1, payloads, at, size - at - 1);
        size--;
        payloads[size] = null;
    }

    public void writeTo(Codec.Out out, PayloadCodec<P> codec) {
        out.writeShort(size);
        for (int i = 0; i < size; i++) {
            out.writeInt(iterations[i]);
            out.writeDouble(losses[i]);
            P payload = payload(i);
            out.writeBoolean(payload != null);
            if (payload != null) {
                codec.write(out, payload);
            }
        }
    }

    public static <P> StepPairing<P> readFrom(Codec.In in, PayloadCodec<P> codec) {
        int count = in.readShort();
        StepPairing<P> pairing = new StepPairing<>(Math.max(4, count));
        for (int i = 0; i < count; i++) {
            int t = in.readInt();
            double loss = in.readDouble();
            P payload = in.readBoolean() ? codec.read(in) : null;
            pairing.put(t, loss, payload);
        }
        return pairing;
    }
}
