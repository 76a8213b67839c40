package io.sgdscope.trainer.data;

import java.util.Objects;

/**
 * Where a training set S (Eq. 1) came from: what {@code RunStarted.dataset} records for provenance.
 *
 * @param name                'gauss-k' (Sec. A.1), 'mnist' or 'cifar10' (Sec. A.2)
 * @param samples             number of training samples n (Eq. 1)
 * @param inputDimension      input dimension d (Eq. 2)
 * @param classes             number of classes k (Eq. 2)
 * @param randomLabelFraction fraction r of each class's labels replaced by random ones (Sec. A.1), in [0, 1]
 * @param standardized        whether the features were standardised per feature with the training set's statistics
 * @param seed                seed of a generated dataset; 0 for data read from files
 * @param source              the folder a file-based dataset was read from; null for generated data
 */
public record DatasetDescription(String name, int samples, int inputDimension, int classes,
                                 double randomLabelFraction, boolean standardized, long seed, String source) {

    public DatasetDescription {
        Objects.requireNonNull(name, "name");
        if (samples < 1 || inputDimension < 1 || classes < 1) {
            throw new IllegalArgumentException("a dataset needs n, d, k >= 1, got n = " + samples + ", d = "
                    + inputDimension + ", k = " + classes);
        }
        if (!(randomLabelFraction >= 0 && randomLabelFraction <= 1)) {
            throw new IllegalArgumentException("random label fraction must be in [0, 1], got " + randomLabelFraction);
        }
    }
}
