package io.sgdscope.trainer.data;

/**
 * How to generate a Gauss-k training set (Sec. A.1, Table 2).
 *
 * @param samples             n, number of training samples
 * @param inputDimension      d, dimension of each sample
 * @param classes             k, number of Gaussian blobs and classes
 * @param randomLabelFraction r in [0, 1]: in each class floor(r n / k) labels are replaced by uniformly drawn ones
 * @param seed                seed of the generator; same seed, same data
 * @param standardize         standardise each feature with the training set's mean and standard deviation
 *                            (see docs/pitfalls.md: on raw blobs most runs stall near chance loss)
 */
public record GaussKSettings(int samples, int inputDimension, int classes, double randomLabelFraction,
                             long seed, boolean standardize) {

    /** The paper's Gauss-10 (Table 2): n = 100, d = 50, k = 10, clean labels; standardised, seed 1. */
    public static final GaussKSettings GAUSS_10 = new GaussKSettings(100, 50, 10, 0.0, 1L, true);

    public GaussKSettings {
        if (samples < 1) {
            throw new IllegalArgumentException("dataset samples n must be >= 1, got " + samples);
        }
        if (inputDimension < 1) {
            throw new IllegalArgumentException("dataset input dimension d must be >= 1, got " + inputDimension);
        }
        if (classes < 2) {
            throw new IllegalArgumentException("dataset classes k must be >= 2, got " + classes);
        }
        if (samples < classes) {
            throw new IllegalArgumentException("dataset samples n = " + samples + " must be at least the number of classes k = "
                    + classes);
        }
        if (!(randomLabelFraction >= 0 && randomLabelFraction <= 1)) {
            throw new IllegalArgumentException("random label fraction r must be in [0, 1], got " + randomLabelFraction);
        }
    }

    /** floor(r n / k): how many labels of each class are replaced by random ones (Sec. A.1). */
    public int randomLabelsPerClass() {
        // The small epsilon keeps e.g. r = 0.58, n = 100, k = 2 (0.58 * 100 / 2 = 28.999999999999996) at 29.
        return (int) Math.floor(randomLabelFraction * samples / classes + 1e-9);
    }

    public GaussKSettings withRandomLabelFraction(double r) {
        return new GaussKSettings(samples, inputDimension, classes, r, seed, standardize);
    }

    public GaussKSettings withSeed(long newSeed) {
        return new GaussKSettings(samples, inputDimension, classes, randomLabelFraction, newSeed, standardize);
    }

    public GaussKSettings withStandardize(boolean newStandardize) {
        return new GaussKSettings(samples, inputDimension, classes, randomLabelFraction, seed, newStandardize);
    }
}
