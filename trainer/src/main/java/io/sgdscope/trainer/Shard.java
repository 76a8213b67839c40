package io.sgdscope.trainer;

/**
 * Which part of an experiment's runs one trainer process trains: shard {@code index} of {@code count}
 * ({@code sgdscope train --shard i/N}). The split of the run indices 0 .. R-1 is fixed: shard i of N trains
 * the contiguous range [floor((i-1) R / N), floor(i R / N)), so the N shards cover every run exactly once
 * and their sizes differ by at most one. Each run keeps the run id, seed and minibatch stream the unsharded
 * experiment gives its index ({@link Experiment#runId}, {@link Experiment#runSeed}), so N processes together
 * publish the records one process would.
 *
 * @param index i, 1-based
 * @param count N, the number of shards
 */
public record Shard(int index, int count) {

    /** The whole experiment in one process. */
    public static final Shard WHOLE = new Shard(1, 1);

    public Shard {
        if (count < 1 || index < 1 || index > count) {
            throw new IllegalArgumentException("shard must be i/N with 1 <= i <= N, got " + index + "/" + count);
        }
    }

    /**
     * Parses "i/N".
     *
     * @throws IllegalArgumentException with one line when the text is not i/N with 1 <= i <= N
     */
    public static Shard parse(String text) {
        String[] parts = text == null ? new String[0] : text.trim().split("/", -1);
        if (parts.length == 2) {
            try {
                return new Shard(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("shard must be i/N with 1 <= i <= N (e.g. 2/4), got '" + text + "'");
    }

    /** Whether this is a proper part of the experiment (N > 1). */
    public boolean isPart() {
        return count > 1;
    }

    /** The first run index of this shard of an experiment of {@code runs} runs: floor((i-1) R / N). */
    public int firstRun(int runs) {
        return (int) ((long) (index - 1) * runs / count);
    }

    /** One past the last run index of this shard: floor(i R / N). */
    public int endRun(int runs) {
        return (int) ((long) index * runs / count);
    }

    /** How many runs this shard trains of an experiment of {@code runs} runs. */
    public int runs(int runs) {
        return endRun(runs) - firstRun(runs);
    }

    /** Whether run {@code runIndex} belongs to this shard. */
    public boolean contains(int runs, int runIndex) {
        return runIndex >= firstRun(runs) && runIndex < endRun(runs);
    }

    /** "i/N", as {@link #parse} reads it. */
    @Override
    public String toString() {
        return index + "/" + count;
    }
}
