package io.sgdscope.streams.runs;

import io.sgdscope.streams.internals.Codec;
import java.util.Arrays;

/**
 * The iterations a run has sent, to count each (run, iteration) once whatever order the records
 * arrive in. Compact for the usual case: every iteration below {@code next} is present, and the few
 * present above it (records that overtook others) are kept in a sorted array. In-order runs keep the
 * array empty; a sparse series (a snapshot every k iterations) keeps one entry per snapshot.
 *
 * <p>Bounded: past {@value #MAX_ABOVE} entries above the contiguous prefix, the oldest gap is given up
 * on (every iteration below the smallest entry counts as present), so a record that fills such an old
 * gap later is taken for a duplicate. Not thread-safe; one per run, owned by a stream task.
 */
public final class IterationSet {

    static final int MAX_ABOVE = 4_096;

    private int next;
    private int[] above;
    private int size;

    public IterationSet() {
        this(0, new int[0], 0);
    }

    private IterationSet(int next, int[] above, int size) {
        this.next = next;
        this.above = above;
        this.size = size;
    }

    /**
     * Adds an iteration.
     *
     * @return true if it was new, false if it was there already (a duplicate)
     * @throws IllegalArgumentException for a negative iteration
     */
    public boolean add(int iteration) {
        if (iteration < 0) {
            throw new IllegalArgumentException("iterations start at 0, got " + iteration);
        }
        if (iteration < next) {
            return false;
        }
        if (iteration == next) {
            next++;
            int absorbed = 0;
            while (absorbed < size && above[absorbed] == next) {
                next++;
                absorbed++;
            }
            if (absorbed > 0) {
                System.arraycopy(above, absorbed, above, 0, size - absorbed);
                size -= absorbed;
            }
            return true;
        }
        int at = Arrays.binarySearch(above, 0, size, iteration);
        if (at >= 0) {
            return false;
        }
        int insertion = -at - 1;
        if (size == above.length) {
            above = Arrays.copyOf(above, Math.max(4, size * 2));
        }
        System.arraycopy(above, insertion, above, insertion + 1, size - insertion);
        above[insertion] = iteration;
        size++;
        if (size > MAX_ABOVE) {
            giveUpOldestGap();
        }
        return true;
    }

    public boolean contains(int iteration) {
        return iteration >= 0 && (iteration < next || Arrays.binarySearch(above, 0, size, iteration) >= 0);
    }

    public boolean isEmpty() {
        return next == 0 && size == 0;
    }

    /** The highest iteration present, or -1. */
    public int max() {
        return size > 0 ? above[size - 1] : next - 1;
    }

    /** How many iterations are present, gaps given up on included. */
    public long count() {
        return (long) next + size;
    }

    private void giveUpOldestGap() {
        next = above[0] + 1;
        int absorbed = 1;
        while (absorbed < size && above[absorbed] == next) {
            next++;
            absorbed++;
        }
        System.arraycopy(above, absorbed, above, 0, size - absorbed);
        size -= absorbed;
    }

    public void writeTo(Codec.Out out) {
        out.writeInt(next);
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            out.writeInt(above[i]);
        }
    }

    public static IterationSet readFrom(Codec.In in) {
        int next = in.readInt();
        int size = in.readInt();
        int[] above = new int[size];
        for (int i = 0; i < size; i++) {
            above[i] = in.readInt();
        }
        return new IterationSet(next, above, size);
    }
}
