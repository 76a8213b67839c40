package io.sgdscope.trainer.data;

import java.util.Objects;
import java.util.Optional;

/**
 * A training set and, when there is one, a held-out test set normalised with the training set's
 * statistics.
 */
public record Splits(Dataset train, Optional<Dataset> test) {

    public Splits {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
    }
}
