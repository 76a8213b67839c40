package io.sgdscope.client;

import java.util.Objects;

/**
 * The training set S a run trains on, for its RunStarted ({@code DatasetSpec}).
 *
 * @param name                e.g. "gauss-k", "mnist", or any name of the caller's
 * @param samples             n, the number of training samples (Eq. 1)
 * @param inputDimension      d, the input dimension
 * @param classes             k, the number of classes
 * @param randomLabelFraction share of labels replaced by random ones, 0 for clean labels
 * @param standardized        whether features were standardised with the training set's statistics
 * @param seed                seed of a generated dataset, 0 for data read from files
 * @param source              where the data was read from, or null
 */
public record DataDescription(String name, int samples, int inputDimension, int classes, double randomLabelFraction,
                              boolean standardized, long seed, String source) {

    /** @throws IllegalArgumentException for sizes < 1 or a fraction outside [0, 1] */
    public DataDescription {
        Objects.requireNonNull(name, "name");
        if (samples < 1 || inputDimension < 1 || classes < 1) {
            throw new IllegalArgumentException("samples, input dimension and classes must be >= 1, got " + samples + ", "
                    + inputDimension + ", " + classes);
        }
        if (!(randomLabelFraction >= 0 && randomLabelFraction <= 1)) {
            throw new IllegalArgumentException("the random label fraction must be in [0, 1], got " + randomLabelFraction);
        }
    }

    /** A dataset with clean labels, not standardised, from no file. */
    public static DataDescription of(String name, int samples, int inputDimension, int classes) {
        return new DataDescription(name, samples, inputDimension, classes, 0, false, 0, null);
    }
}
