package io.sgdscope.trainer.optim;

import java.util.SplittableRandom;

/**
 * Draws minibatches of m sample indices uniformly from 0 .. n-1 with replacement (Sec. A.1), so a
 * sample can appear more than once in a batch and the stochastic gradient is unbiased:
 * E[g_t | theta_t] = mu_t (Sec. 3).
 *
 * <p>Not thread-safe; {@link #next()} reuses one array.
 */
public final class MinibatchSampler {

    private final int samples;
    private final int[] batch;
    private final SplittableRandom random;
    private long drawn;

    /**
     * @param samples   n, the size of the training set
     * @param batchSize m, 1 <= m
     * @param random    this run's sampling stream
     */
    public MinibatchSampler(int samples, int batchSize, SplittableRandom random) {
        if (samples < 1 || batchSize < 1) {
            throw new IllegalArgumentException("need n >= 1 and m >= 1, got n = " + samples + ", m = " + batchSize);
        }
        this.samples = samples;
        this.batch = new int[batchSize];
        this.random = random;
    }

    /** The next minibatch: m indices, each uniform on 0 .. n-1 and independent. The array is reused. */
    public int[] next() {
        for (int i = 0; i < batch.length; i++) {
            batch[i] = random.nextInt(samples);
        }
        drawn++;
        return batch;
    }

    /**
     * Minibatches drawn so far: with the stream's seed, the sampler's whole state. A checkpoint keeps this
     * number; {@link #skip} brings a new sampler on the same stream to the same place.
     */
    public long batchesDrawn() {
        return drawn;
    }

    /** Draws and discards {@code batches} minibatches: the next batch is then the one after them. */
    public void skip(long batches) {
        for (long b = 0; b < batches; b++) {
            next();
        }
    }

    public int batchSize() {
        return batch.length;
    }
}
