package io.sgdscope.schemas.frames;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The columns of an IterationFrame, in the order of its schema: one per scalar field of IterationMetrics,
 * under the same name and with the same meaning (docs/quantities.md). Required columns hold a value for
 * every run; optional ones may lack the whole column or single values (null in Avro).
 */
public enum FrameColumn {
    LOSS("loss", Kind.REQUIRED, IterationMetrics::getLoss, (m, v) -> m.setLoss(v)),
    MINIBATCH_LOSS("minibatchLoss", Kind.REQUIRED, IterationMetrics::getMinibatchLoss, (m, v) -> m.setMinibatchLoss(v)),
    STEP_SIZE("stepSize", Kind.REQUIRED, IterationMetrics::getStepSize, (m, v) -> m.setStepSize(v)),
    BATCH_SIZE("batchSize", Kind.REQUIRED_INT, m -> (double) m.getBatchSize(), (m, v) -> m.setBatchSize((int) (double) v)),
    SG_NORM("sgNorm", Kind.REQUIRED, IterationMetrics::getSgNorm, (m, v) -> m.setSgNorm(v)),
    SG_COS_PREV("sgCosPrev", Kind.OPTIONAL, IterationMetrics::getSgCosPrev, IterationMetrics::setSgCosPrev),
    TRAIN_ACCURACY("trainAccuracy", Kind.OPTIONAL, IterationMetrics::getTrainAccuracy, IterationMetrics::setTrainAccuracy),
    GRAD_NORM_SQ("gradNormSq", Kind.OPTIONAL, IterationMetrics::getGradNormSq, IterationMetrics::setGradNormSq),
    TRACE_M("traceM", Kind.OPTIONAL, IterationMetrics::getTraceM, IterationMetrics::setTraceM),
    TRACE_SIGMA("traceSigma", Kind.OPTIONAL, IterationMetrics::getTraceSigma, IterationMetrics::setTraceSigma),
    SIGMA_FROBENIUS("sigmaFrobenius", Kind.OPTIONAL, IterationMetrics::getSigmaFrobenius, IterationMetrics::setSigmaFrobenius),
    SIGMA_SPECTRAL("sigmaSpectral", Kind.OPTIONAL, IterationMetrics::getSigmaSpectral, IterationMetrics::setSigmaSpectral),
    SIGMA_HALF_MU_NORM("sigmaHalfMuNorm", Kind.OPTIONAL, IterationMetrics::getSigmaHalfMuNorm, IterationMetrics::setSigmaHalfMuNorm),
    HESSIAN_SPECTRAL_NORM("hessianSpectralNorm", Kind.OPTIONAL, IterationMetrics::getHessianSpectralNorm,
            IterationMetrics::setHessianSpectralNorm),
    PROBE_SECONDS("probeSeconds", Kind.OPTIONAL, IterationMetrics::getProbeSeconds, IterationMetrics::setProbeSeconds),
    TEST_LOSS("testLoss", Kind.OPTIONAL, IterationMetrics::getTestLoss, IterationMetrics::setTestLoss),
    TEST_ACCURACY("testAccuracy", Kind.OPTIONAL, IterationMetrics::getTestAccuracy, IterationMetrics::setTestAccuracy),
    PARAM_DISTANCE("paramDistance", Kind.OPTIONAL, IterationMetrics::getParamDistance, IterationMetrics::setParamDistance);

    /** How a column is typed in the schema. */
    public enum Kind {
        /** {@code array<double>}: a value for every run. */
        REQUIRED,
        /** {@code array<int>}, held as doubles here (exact for every int). */
        REQUIRED_INT,
        /** {@code null | array<null | double>}. */
        OPTIONAL
    }

    private static final List<FrameColumn> ALL = List.of(values());

    private final String field;
    private final Kind kind;
    private final Function<IterationMetrics, Double> getter;
    private final BiConsumer<IterationMetrics, Double> setter;

    FrameColumn(String field, Kind kind, Function<IterationMetrics, Double> getter, BiConsumer<IterationMetrics, Double> setter) {
        this.field = field;
        this.kind = kind;
        this.getter = getter;
        this.setter = setter;
    }

    /** The field name, the same in IterationFrame and IterationMetrics. */
    public String field() {
        return field;
    }

    public Kind kind() {
        return kind;
    }

    public boolean optional() {
        return kind == Kind.OPTIONAL;
    }

    /** Every column, in schema order. */
    public static List<FrameColumn> all() {
        return ALL;
    }

    /** The column of the given IterationMetrics field name, or null if that field is not a column. */
    public static FrameColumn ofField(String field) {
        for (FrameColumn column : ALL) {
            if (column.field.equals(field)) {
                return column;
            }
        }
        return null;
    }

    /** The run's value of this column in a per-run record, or null where the record has none. */
    public Double valueOf(IterationMetrics metrics) {
        return getter.apply(metrics);
    }

    void set(IterationMetrics metrics, Double value) {
        setter.accept(metrics, value);
    }
}
