package io.sgdscope.trainer.model;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;

/** Floating-point precision of training and telemetry ({@code RunStarted.precision}). */
public enum Precision {
    FLOAT64("float64", DataType.DOUBLE),
    FLOAT32("float32", DataType.FLOAT);

    private final String id;
    private final DataType dataType;

    Precision(String id, DataType dataType) {
        this.id = id;
        this.dataType = dataType;
    }

    /** The name used in settings and provenance: 'float64' or 'float32'. */
    public String id() {
        return id;
    }

    /** The ND4J data type the model computes in. */
    public DataType dataType() {
        return dataType;
    }

    /** The precision named {@code id} ('float64' or 'float32'). */
    public static Precision fromId(String id) {
        for (Precision p : values()) {
            if (p.id.equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision must be one of " + ids() + ", got '" + id + "'");
    }

    private static String ids() {
        return Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return id;
    }
}
