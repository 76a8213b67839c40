package io.sgdscope.streams.metrics;

/**
 * Names of sgdscope's own meters, in Micrometer's dotted form; the Prometheus name each becomes is in
 * its comment (Micrometer's Prometheus naming: dots become underscores, counters end in {@code _total}).
 *
 * <p>Labels are bounded: experiment, metric, quantile level, topic. Never a run or an iteration.
 */
public final class MeterNames {

    /** {@code sgdscope_cross_run_quantile{experiment,metric,quantile}}: quantile of the band at the frontier iteration. */
    public static final String CROSS_RUN_QUANTILE = "sgdscope.cross.run.quantile";
    /** {@code sgdscope_cross_run_mean{experiment,metric}}: exact mean of the finite values at the frontier iteration. */
    public static final String CROSS_RUN_MEAN = "sgdscope.cross.run.mean";
    /** {@code sgdscope_cross_run_min{experiment,metric}}. */
    public static final String CROSS_RUN_MIN = "sgdscope.cross.run.min";
    /** {@code sgdscope_cross_run_max{experiment,metric}}. */
    public static final String CROSS_RUN_MAX = "sgdscope.cross.run.max";
    /** {@code sgdscope_cross_run_runs{experiment,metric}}: runs that reached the frontier iteration. */
    public static final String CROSS_RUN_RUNS = "sgdscope.cross.run.runs";
    /** {@code sgdscope_cross_run_non_finite{experiment,metric}}: of those, runs whose value was NaN or infinite. */
    public static final String CROSS_RUN_NON_FINITE = "sgdscope.cross.run.non.finite";
    /** {@code sgdscope_cross_run_iteration{experiment,metric}}: the frontier iteration the band is for. */
    public static final String CROSS_RUN_ITERATION = "sgdscope.cross.run.iteration";
    /** {@code sgdscope_cross_run_rank_error{experiment,metric}}: the sketch's normalised rank error bound (0 = exact). */
    public static final String CROSS_RUN_RANK_ERROR = "sgdscope.cross.run.rank.error";

    /** {@code sgdscope_iteration_records_total{experiment}}: IterationMetrics records read. */
    public static final String ITERATION_RECORDS = "sgdscope.iteration.records";
    /** {@code sgdscope_duplicate_iteration_records_total{experiment}}: records of an iteration a run had already sent, skipped. */
    public static final String DUPLICATE_ITERATION_RECORDS = "sgdscope.duplicate.iteration.records";
    /** {@code sgdscope_non_finite_values_total{experiment,metric}}: NaN or infinite values, counted but not sketched. */
    public static final String NON_FINITE_VALUES = "sgdscope.non.finite.values";
    /** {@code sgdscope_unreadable_records_total{topic}}: records whose bytes could not be read, skipped. */
    public static final String UNREADABLE_RECORDS = "sgdscope.unreadable.records";

    public static final String TAG_EXPERIMENT = "experiment";
    public static final String TAG_METRIC = "metric";
    public static final String TAG_QUANTILE = "quantile";
    public static final String TAG_TOPIC = "topic";

    private MeterNames() {}
}
