package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import java.util.Objects;
import org.apache.avro.Schema;

/**
 * A scalar field of {@link IterationMetrics} whose cross-run distribution is tracked, chosen by name
 * ({@code "loss"}, {@code "sgNorm"}, ...). Any field of type {@code double} or {@code ["null", "double"]}
 * qualifies; a null value means "not computed at this iteration" and is skipped.
 *
 * @param name the field name, also the {@code metric} of the summaries and gauges
 * @param position the field's position in the schema (the generated class reads fields by position)
 */
public record TrackedMetric(String name, int position) {

    public TrackedMetric {
        Objects.requireNonNull(name, "name");
    }

    /** The metric of the field with this name; a clear message if there is no such scalar field. */
    public static TrackedMetric named(String name) {
        Schema.Field field = IterationMetrics.getClassSchema().getField(name);
        if (field == null || !isScalar(field.schema())) {
            throw new IllegalArgumentException("'" + name + "' is not a scalar metric of IterationMetrics; choose from "
                    + scalarMetricNames());
        }
        return new TrackedMetric(name, field.pos());
    }

    /** The names of every field that can be tracked, in schema order. */
    public static List<String> scalarMetricNames() {
        return IterationMetrics.getClassSchema().getFields().stream()
                .filter(field -> isScalar(field.schema()))
                .map(Schema.Field::name)
                .toList();
    }

    /** The value in a record, or null when the record does not carry one. */
    public Double valueOf(IterationMetrics record) {
        return (Double) record.get(position);
    }

    private static boolean isScalar(Schema schema) {
        if (schema.getType() == Schema.Type.DOUBLE) {
            return true;
        }
        return schema.getType() == Schema.Type.UNION && schema.getTypes().size() == 2
                && schema.getTypes().get(0).getType() == Schema.Type.NULL
                && schema.getTypes().get(1).getType() == Schema.Type.DOUBLE;
    }
}
