package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.streams.deviation.Theorem1;
import io.sgdscope.streams.runs.RunInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.avro.Schema;

/**
 * A scalar whose cross-run distribution is tracked, chosen by name:
 * <ul>
 *   <li>any {@code double} or {@code ["null", "double"]} field of {@link IterationMetrics} ({@code "loss"},
 *       {@code "sgNorm"}, {@code "gradNormSq"}, ...); null means "not computed at this iteration" and is skipped;</li>
 *   <li>{@value #LOSS_DELTA}: Δ_t(f) = f(θ_{t+1}) − f(θ_t) (Eq. 22), at iteration t, once t + 1 has arrived;</li>
 *   <li>{@value #SUPERMARTINGALE_HELD}: 1 when −η‖μ‖² + (η²/2) L Tr M ≤ 0 at θ_t (§5.4, Thm 3), else 0, where
 *       the moments were computed; its cross-run mean is the share of runs in the super-martingale phase;</li>
 *   <li>the spectrum scalars of {@link RunInput.Spectrum#NAMES} (λ₁ of H_f, M_t, H_p; principal-angle cosines).</li>
 * </ul>
 *
 * @param name the name, also the {@code metric} of the summaries and gauges
 * @param source where the value comes from
 * @param position the field's position in IterationMetrics (the generated class reads fields by
 *                 position), or the index in {@link RunInput.Spectrum#NAMES}; -1 otherwise
 */
public record TrackedMetric(String name, Source source, int position) {

    /** Δ_t(f), Eq. 22. */
    public static final String LOSS_DELTA = "lossDelta";
    /** The super-martingale condition of §5.4 at θ_t, as 1 or 0. */
    public static final String SUPERMARTINGALE_HELD = "supermartingaleHeld";

    /** Where a metric's value comes from. */
    public enum Source {
        /** A field of IterationMetrics. */
        ITERATION_FIELD,
        /** Δ_t(f) of a completed step t → t + 1. */
        LOSS_DELTA,
        /** Computed from fields of IterationMetrics. */
        DERIVED,
        /** A scalar of a SpectrumSnapshot. */
        SPECTRUM
    }

    public TrackedMetric {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
    }

    /** The metric with this name; a clear message with the choices if there is none. */
    public static TrackedMetric named(String name) {
        if (LOSS_DELTA.equals(name)) {
            return new TrackedMetric(name, Source.LOSS_DELTA, -1);
        }
        if (SUPERMARTINGALE_HELD.equals(name)) {
            return new TrackedMetric(name, Source.DERIVED, -1);
        }
        int spectrum = RunInput.Spectrum.NAMES.indexOf(name);
        if (spectrum >= 0) {
            return new TrackedMetric(name, Source.SPECTRUM, spectrum);
        }
        Schema.Field field = name == null ? null : IterationMetrics.getClassSchema().getField(name);
        if (field == null || !isScalar(field.schema())) {
            throw new IllegalArgumentException("'" + name + "' is not a metric sgdscope tracks; choose from " + allNames());
        }
        return new TrackedMetric(name, Source.ITERATION_FIELD, field.pos());
    }

    /** The names of the scalar fields of IterationMetrics, in schema order. */
    public static List<String> scalarMetricNames() {
        return IterationMetrics.getClassSchema().getFields().stream()
                .filter(field -> isScalar(field.schema()))
                .map(Schema.Field::name)
                .toList();
    }

    /** Every name {@link #named} accepts: the IterationMetrics fields, the derived metrics, the spectrum scalars. */
    public static List<String> allNames() {
        List<String> names = new ArrayList<>(scalarMetricNames());
        names.add(LOSS_DELTA);
        names.add(SUPERMARTINGALE_HELD);
        names.addAll(RunInput.Spectrum.NAMES);
        return List.copyOf(names);
    }

    /** Whether the value comes with an IterationMetrics record (rather than a step or a snapshot). */
    public boolean fromIterationRecord() {
        return source == Source.ITERATION_FIELD || source == Source.DERIVED;
    }

    /**
     * The value in an iteration record, or null when the record does not carry one (a field not
     * computed at this iteration; a metric that does not come from iteration records).
     */
    public Double valueOf(IterationMetrics record) {
        if (source == Source.ITERATION_FIELD) {
            return (Double) record.get(position);
        }
        if (source == Source.DERIVED) {
            return supermartingaleHeld(record);
        }
        return null;
    }

    /** The frame column this metric reads (an IterationMetrics field), or null for a metric that is no field. */
    public FrameColumn column() {
        return source == Source.ITERATION_FIELD ? FrameColumn.ofField(name) : null;
    }

    /** The value in a spectrum snapshot, or null (NaN in the snapshot means: not there). */
    public Double valueOf(RunInput.Spectrum snapshot) {
        if (source != Source.SPECTRUM || Double.isNaN(snapshot.values()[position])) {
            return null;
        }
        return snapshot.values()[position];
    }

    /** 1 if the super-martingale condition of §5.4 holds at θ_t, 0 if not, null without the moments. */
    static Double supermartingaleHeld(IterationMetrics record) {
        Double gradNormSq = record.getGradNormSq();
        Double traceM = record.getTraceM();
        Double hessianNorm = record.getHessianSpectralNorm();
        if (gradNormSq == null || traceM == null || hessianNorm == null) {
            return null;
        }
        double drift = Theorem1.expectedChangeUpperBound(record.getStepSize(), gradNormSq, hessianNorm, traceM);
        if (Double.isNaN(drift)) {
            return null;
        }
        return drift <= 0 ? 1.0 : 0.0;
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
