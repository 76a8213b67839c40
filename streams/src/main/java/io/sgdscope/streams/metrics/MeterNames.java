package io.sgdscope.streams.metrics;

/**
 * Names of sgdscope's own meters, in Micrometer's dotted form; the Prometheus name each becomes is in
 * its comment (Micrometer's Prometheus naming: dots become underscores, counters end in {@code _total}).
 * Values are in base units: losses in nats, counts as plain numbers, shares in [0, 1].
 *
 * <p>Labels are bounded: experiment, metric, quantile level, topic, application, check, severity,
 * outcome, state, side, and {@code run} only on the {@code sgdscope_run_*} series, which exist for at
 * most the watched runs of each experiment (RunStarted.runIndex below the watched-runs setting, 10 by
 * default) while they run. Never a series per run of a whole ensemble, never one per iteration.
 *
 * <p>For alert rules: a deviation bound violated is
 * {@code increase(sgdscope_deviation_alerts_total{check=~"theorem1_interval|azuma_bernstein|supermartingale"}[5m]) > 0};
 * a run diverged is {@code increase(sgdscope_deviation_alerts_total{check="divergence"}[5m]) > 0} (or
 * {@code sgdscope_experiment_runs{state="diverged"} > 0}). Both counters exist at 0 from an experiment's
 * first record on, so {@code increase} sees the first alert.
 */
public final class MeterNames {

    // ---- Quantiles app, experiment level: the band at the frontier iteration of each (experiment, metric).

    /** {@code sgdscope_cross_run_quantile{experiment,metric,quantile}}: quantile of the band at the frontier iteration. */
    public static final String CROSS_RUN_QUANTILE = "sgdscope.cross.run.quantile";
    /** {@code sgdscope_cross_run_mean{experiment,metric}}: exact mean of the finite values at the frontier iteration. */
    public static final String CROSS_RUN_MEAN = "sgdscope.cross.run.mean";
    /** {@code sgdscope_cross_run_variance{experiment,metric}}: unbiased sample variance across runs (Fig. 10 for lossDelta). */
    public static final String CROSS_RUN_VARIANCE = "sgdscope.cross.run.variance";
    /** {@code sgdscope_cross_run_min{experiment,metric}}. */
    public static final String CROSS_RUN_MIN = "sgdscope.cross.run.min";
    /** {@code sgdscope_cross_run_max{experiment,metric}}. */
    public static final String CROSS_RUN_MAX = "sgdscope.cross.run.max";
    /** {@code sgdscope_cross_run_runs{experiment,metric}}: runs that reached the band's iteration. */
    public static final String CROSS_RUN_RUNS = "sgdscope.cross.run.runs";
    /** {@code sgdscope_cross_run_non_finite{experiment,metric}}: of those, runs whose value was NaN or infinite. */
    public static final String CROSS_RUN_NON_FINITE = "sgdscope.cross.run.non.finite";
    /**
     * {@code sgdscope_cross_run_iteration{experiment,metric}}: the iteration the band is for: the frontier, or
     * for a metric computed every k iterations its latest iteration at or before the frontier.
     */
    public static final String CROSS_RUN_ITERATION = "sgdscope.cross.run.iteration";
    /** {@code sgdscope_cross_run_rank_error{experiment,metric}}: the sketch's normalised rank error bound (0 = exact). */
    public static final String CROSS_RUN_RANK_ERROR = "sgdscope.cross.run.rank.error";
    /**
     * {@code sgdscope_supermartingale_share{experiment}}: share of the runs at the frontier iteration whose step
     * keeps the super-martingale condition −η‖μ‖² + (η²/2) L Tr M ≤ 0 (§5.4), the phase indicator of §5.1 (the
     * cross-run mean of the metric supermartingaleHeld).
     */
    public static final String SUPERMARTINGALE_SHARE = "sgdscope.supermartingale.share";

    /** {@code sgdscope_experiment_frontier_iteration{experiment}}: the latest iteration every active run has reached. */
    public static final String EXPERIMENT_FRONTIER_ITERATION = "sgdscope.experiment.frontier.iteration";
    /** {@code sgdscope_experiment_runs{experiment,state}}: runs by state: active, completed, diverged, cancelled, failed. */
    public static final String EXPERIMENT_RUNS = "sgdscope.experiment.runs";

    // ---- Quantiles app, counters.

    /**
     * {@code sgdscope_record_latency_seconds} (a histogram: {@code _bucket}, {@code _count}, {@code _sum}): end-to-end
     * latency from a trainer producing an IterationMetrics (its record timestamp) to the quantiles app reading it.
     */
    public static final String RECORD_LATENCY = "sgdscope.record.latency";
    /** {@code sgdscope_iteration_records_total{experiment}}: IterationMetrics records read by the quantiles app. */
    public static final String ITERATION_RECORDS = "sgdscope.iteration.records";
    /** {@code sgdscope_duplicate_iteration_records_total{experiment}}: records of an iteration a run had already sent, skipped. */
    public static final String DUPLICATE_ITERATION_RECORDS = "sgdscope.duplicate.iteration.records";
    /** {@code sgdscope_spectrum_records_total{experiment}}: SpectrumSnapshot records read. */
    public static final String SPECTRUM_RECORDS = "sgdscope.spectrum.records";
    /** {@code sgdscope_duplicate_spectrum_records_total{experiment}}: snapshots of an iteration a run had already sent, skipped. */
    public static final String DUPLICATE_SPECTRUM_RECORDS = "sgdscope.duplicate.spectrum.records";
    /** {@code sgdscope_late_records_total{experiment}}: iteration or spectrum records of a run whose RunFinished had arrived, skipped. */
    public static final String LATE_RECORDS = "sgdscope.late.records";
    /** {@code sgdscope_non_finite_values_total{experiment,metric}}: NaN or infinite values, counted but not sketched. */
    public static final String NON_FINITE_VALUES = "sgdscope.non.finite.values";

    // ---- Quantiles app, watched runs only.

    /** {@code sgdscope_run_rolling_quantile{experiment,run,metric,quantile}}: a watched run's quantile over its last W iterations. */
    public static final String RUN_ROLLING_QUANTILE = "sgdscope.run.rolling.quantile";

    // ---- Deviation app, experiment level.

    /** {@code sgdscope_deviation_records_total{experiment}}: IterationMetrics records read by the deviation app. */
    public static final String DEVIATION_RECORDS = "sgdscope.deviation.records";
    /** {@code sgdscope_deviation_skipped_records_total{experiment,reason}}: records the deviation app skipped: duplicate, late. */
    public static final String DEVIATION_SKIPPED_RECORDS = "sgdscope.deviation.skipped.records";
    /**
     * {@code sgdscope_deviation_alerts_total{experiment,check,severity}}: DeviationAlerts raised: check
     * theorem1_interval, azuma_bernstein, supermartingale (warning) and divergence (critical).
     */
    public static final String DEVIATION_ALERTS = "sgdscope.deviation.alerts";
    /** {@code sgdscope_theorem1_steps_total{experiment,outcome}}: steps t → t+1 by outcome: inside, exceeded, unchecked (no moments at θ_t). */
    public static final String THEOREM1_STEPS = "sgdscope.theorem1.steps";
    /** {@code sgdscope_supermartingale_steps_total{experiment,optimizer,condition}}: checked steps by optimizer (vanilla, adaptive) and condition (held, broken). */
    public static final String SUPERMARTINGALE_STEPS = "sgdscope.supermartingale.steps";

    // ---- Deviation app, watched runs only.

    /** {@code sgdscope_run_loss_delta{experiment,run}}: the watched run's latest Δ_t(f) = f(θ_{t+1}) − f(θ_t) (Eq. 22), in nats. */
    public static final String RUN_LOSS_DELTA = "sgdscope.run.loss.delta";
    /** {@code sgdscope_run_step_iteration{experiment,run}}: the t of that latest step. */
    public static final String RUN_STEP_ITERATION = "sgdscope.run.step.iteration";
    /** {@code sgdscope_run_theorem1_interval{experiment,run,side}}: Eq. 27's interval of E[Δ_t | θ_t] at the latest checked step, side lower or upper. */
    public static final String RUN_THEOREM1_INTERVAL = "sgdscope.run.theorem1.interval";
    /** {@code sgdscope_run_theorem1_threshold{experiment,run,side}}: the interval widened by the deviation allowance (Eq. 28–29): beyond it a step is an exceedance. */
    public static final String RUN_THEOREM1_THRESHOLD = "sgdscope.run.theorem1.threshold";
    /** {@code sgdscope_run_window_exceedances{experiment,run}}: exceedances among the last checked steps of the window. */
    public static final String RUN_WINDOW_EXCEEDANCES = "sgdscope.run.window.exceedances";
    /** {@code sgdscope_run_martingale{experiment,run}}: S_T = Σ(Δ_t − ê_t) over the checked steps (§5.3). */
    public static final String RUN_MARTINGALE = "sgdscope.run.martingale";
    /** {@code sgdscope_run_martingale_envelope{experiment,run}}: the Azuma–Bernstein envelope |S_T| is compared with (Eq. 32–33). */
    public static final String RUN_MARTINGALE_ENVELOPE = "sgdscope.run.martingale.envelope";

    // ---- Both apps.

    /** {@code sgdscope_unreadable_records_total{application,topic}}: records whose bytes could not be read, skipped (and dead-lettered). */
    public static final String UNREADABLE_RECORDS = "sgdscope.unreadable.records";
    /**
     * {@code sgdscope_failed_records_total{application,topic,reason}}: records read but not processed, skipped (and
     * dead-lettered); reason invalid_id (a run or experiment id that breaks the id rule), processing_error,
     * serialization_error (an internal record that cannot be written).
     */
    public static final String FAILED_RECORDS = "sgdscope.failed.records";
    /** {@code sgdscope_app_running{application}}: 1 while the app's Kafka Streams client runs (RUNNING or REBALANCING), else 0. */
    public static final String APP_RUNNING = "sgdscope.app.running";

    public static final String TAG_EXPERIMENT = "experiment";
    public static final String TAG_METRIC = "metric";
    public static final String TAG_QUANTILE = "quantile";
    public static final String TAG_TOPIC = "topic";
    public static final String TAG_APPLICATION = "application";
    public static final String TAG_RUN = "run";
    public static final String TAG_CHECK = "check";
    public static final String TAG_SEVERITY = "severity";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_STATE = "state";
    public static final String TAG_SIDE = "side";
    public static final String TAG_REASON = "reason";
    public static final String TAG_OPTIMIZER = "optimizer";
    public static final String TAG_CONDITION = "condition";

    private MeterNames() {}
}
