package io.sgdscope.trainer.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What an optimizer carries from one step to the next (moving averages, counters, the previous gradient),
 * copied out as plain float64 values for a checkpoint: restoring it and stepping on gives the very same
 * steps as never having stopped.
 *
 * @param name    the optimizer's {@link Optimizer#name()}
 * @param scalars named numbers (counters are exact as doubles up to 2^53)
 * @param vectors named vectors of length p
 */
public record OptimizerState(String name, Map<String, Double> scalars, Map<String, double[]> vectors) {

    public OptimizerState {
        Objects.requireNonNull(name, "name");
        scalars = Map.copyOf(scalars);
        vectors = Map.copyOf(vectors);
    }

    /** A builder-style helper: an empty state of this optimizer. */
    static OptimizerState of(String name) {
        return new OptimizerState(name, Map.of(), Map.of());
    }

    OptimizerState withScalar(String key, double value) {
        Map<String, Double> more = new LinkedHashMap<>(scalars);
        more.put(key, value);
        return new OptimizerState(name, more, vectors);
    }

    /** Adds a copy of the vector, if there is one (optimizers make theirs on the first step). */
    OptimizerState withVector(String key, INDArray vector) {
        if (vector == null) {
            return this;
        }
        Map<String, double[]> more = new LinkedHashMap<>(vectors);
        more.put(key, vector.toDoubleVector());
        return new OptimizerState(name, scalars, more);
    }

    /** Adds a copy of a float64 vector. */
    OptimizerState withVector(String key, double[] vector) {
        Map<String, double[]> more = new LinkedHashMap<>(vectors);
        more.put(key, vector.clone());
        return new OptimizerState(name, scalars, more);
    }

    double scalar(String key) {
        Double value = scalars.get(key);
        if (value == null) {
            throw new IllegalArgumentException("the " + name + " state has no '" + key + "'");
        }
        return value;
    }

    /** The vector as a new array of the given type, or null if the state has none. */
    INDArray vector(String key, DataType type) {
        double[] values = vectors.get(key);
        return values == null ? null : Nd4j.createFromArray(values).castTo(type);
    }

    /** Throws unless this is the state of {@code optimizer}. */
    void requireOf(String optimizer) {
        if (!name.equals(optimizer)) {
            throw new IllegalArgumentException("the checkpoint holds the state of optimizer " + name + ", not " + optimizer);
        }
    }
}
