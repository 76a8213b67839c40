package io.sgdscope.streams.quantiles;

import io.sgdscope.streams.internals.Codec;
import java.util.Arrays;

/**
 * One metric of one run over its last W iterations: the values at iterations (T − W, T], T the highest
 * iteration seen, whatever order they arrived in. A ring of W slots tagged with their iteration; a
 * value older than the window is ignored. Not thread-safe.
 */
final class RollingWindow {

    private final int[] iterations;
    private final double[] values;
    private int highest = -1;

    RollingWindow(int size) {
        iterations = new int[size];
        values = new double[size];
        Arrays.fill(iterations, -1);
    }

    int size() {
        return iterations.length;
    }

    /** @return false if the iteration is already older than the window */
    boolean add(int iteration, double value) {
        int size = iterations.length;
        if (highest >= 0 && iteration <= highest - size) {
            return false;
        }
        int slot = iteration % size;
        iterations[slot] = iteration;
        values[slot] = value;
        highest = Math.max(highest, iteration);
        return true;
    }

    /** The finite values in the window, sorted. */
    double[] sortedFiniteValues() {
        double[] inWindow = new double[iterations.length];
        int count = 0;
        for (int slot = 0; slot < iterations.length; slot++) {
            int t = iterations[slot];
            if (t >= 0 && t > highest - iterations.length && Double.isFinite(values[slot])) {
                inWindow[count++] = values[slot];
            }
        }
        double[] sorted = Arrays.copyOf(inWindow, count);
        Arrays.sort(sorted);
        return sorted;
    }

    /** The window's quantiles, exact: the q-quantile of n values is the ⌈q·n⌉-th smallest (see {@link Quantiles}). */
    Quantiles quantiles() {
        double[] sorted = sortedFiniteValues();
        if (sorted.length == 0) {
            return Quantiles.undefined();
        }
        double[] levels = Quantiles.levels();
        double[] result = new double[levels.length];
        for (int i = 0; i < levels.length; i++) {
            // ⌈q·n⌉ with q a decimal like 0.05: round q·n first so 0.05·100 is 5, not 5.000000000000001
            int rank = (int) Math.ceil(Math.round(levels[i] * sorted.length * 1e9) / 1e9);
            result[i] = sorted[Math.max(0, rank - 1)];
        }
        return Quantiles.of(result);
    }

    int highestIteration() {
        return highest;
    }

    void writeTo(Codec.Out out) {
        out.writeInt(iterations.length);
        out.writeInt(highest);
        for (int slot = 0; slot < iterations.length; slot++) {
            out.writeInt(iterations[slot]);
            out.writeDouble(values[slot]);
        }
    }

    static RollingWindow readFrom(Codec.In in) {
        RollingWindow window = new RollingWindow(in.readInt());
        window.highest = in.readInt();
        for (int slot = 0; slot < window.iterations.length; slot++) {
            window.iterations[slot] = in.readInt();
            window.values[slot] = in.readDouble();
        }
        return window;
    }
}
