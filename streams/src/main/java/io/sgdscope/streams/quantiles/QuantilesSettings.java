package io.sgdscope.streams.quantiles;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What the quantiles app computes. Validated on construction; every message is one line.
 *
 * @param metrics the metrics whose cross-run distributions are kept ({@link TrackedMetric#named}); must
 *                include {@code loss}, which defines how far the runs got (the frontier)
 * @param sketchK the KLL accuracy parameter k (8..65535); see {@link QuantilesTopology}
 * @param watchedRuns runs per experiment with series of their own: those whose RunStarted.runIndex is
 *                    below this (0 = none)
 * @param rollingWindow W: the rolling quantiles of a watched run are over its last W iterations
 * @param rollingMetrics the metrics of those rolling quantiles (iteration-record metrics or lossDelta)
 * @param batchRecords a run task sends the values of an iteration on after at most this many records
 *                     (1 = every record at once); larger batches cost far less per record
 * @param emitInterval and at the latest after this long (wall clock)
 * @param runStallTimeout a run that sent iterations, no RunFinished, and nothing for this long (wall clock
 *                        of the app) counts as stalled: it stops holding its experiment's frontier back
 *                        until it sends again (a crashed trainer). Zero: runs never stall.
 */
public record QuantilesSettings(List<String> metrics, int sketchK, int watchedRuns, int rollingWindow,
                                List<String> rollingMetrics, int batchRecords, Duration emitInterval,
                                Duration runStallTimeout) {

    /** Every IterationMetrics quantity of the paper, Δ_t(f), the phase indicator and the spectrum scalars. */
    public static final List<String> DEFAULT_METRICS = List.of("loss", TrackedMetric.LOSS_DELTA, "minibatchLoss",
            "stepSize", "sgNorm", "sgCosPrev", "paramDistance", "trainAccuracy", "gradNormSq", "traceM", "traceSigma",
            "sigmaFrobenius", "sigmaSpectral", "sigmaHalfMuNorm", "hessianSpectralNorm", TrackedMetric.SUPERMARTINGALE_HELD,
            "hessianTopEigenvalue", "secondMomentTopEigenvalue", "predictionHessianTopEigenvalue",
            "principalAngleCosineFirst", "principalAngleCosineMean");
    public static final List<String> DEFAULT_ROLLING_METRICS = List.of("loss", TrackedMetric.LOSS_DELTA, "sgNorm", "sgCosPrev");
    public static final int DEFAULT_SKETCH_K = 300;
    public static final int DEFAULT_WATCHED_RUNS = 10;
    public static final int DEFAULT_ROLLING_WINDOW = 50;
    /**
     * An iteration of a 10,000-run ensemble in one batch: each batch sent costs a sketch update and a band
     * (sorting the sketch) per metric, so with frames of 500 runs a batch of 512 records cost 20 bands per
     * metric and iteration where one does; the emit interval still bounds the wait.
     */
    public static final int DEFAULT_BATCH_RECORDS = 10_000;
    public static final Duration DEFAULT_EMIT_INTERVAL = Duration.ofMillis(100);
    /** Longer than any iteration with curvature probes we measured (seconds), short enough to notice a crash. */
    public static final Duration DEFAULT_RUN_STALL_TIMEOUT = Duration.ofMinutes(15);

    public QuantilesSettings {
        metrics = List.copyOf(metrics);
        rollingMetrics = List.copyOf(rollingMetrics);
        if (!metrics.contains("loss")) {
            throw new IllegalArgumentException("metrics must include loss: it tells how far the runs got; got " + metrics);
        }
        if (Set.copyOf(metrics).size() != metrics.size()) {
            throw new IllegalArgumentException("metrics are listed twice: " + metrics);
        }
        metrics.forEach(TrackedMetric::named);
        if (sketchK < 8 || sketchK > 65_535) {
            throw new IllegalArgumentException("sketch k must be in 8..65535, was " + sketchK);
        }
        if (watchedRuns < 0 || watchedRuns > 1_000) {
            throw new IllegalArgumentException("watched runs must be in 0..1000 per experiment (each has series of its own), was "
                    + watchedRuns);
        }
        if (rollingWindow < 1 || rollingWindow > 10_000) {
            throw new IllegalArgumentException("rolling window must be in 1..10000 iterations, was " + rollingWindow);
        }
        for (String name : rollingMetrics) {
            TrackedMetric metric = TrackedMetric.named(name);
            if (metric.source() == TrackedMetric.Source.SPECTRUM) {
                throw new IllegalArgumentException("rolling metric " + name + " is a spectrum scalar; choose iteration metrics or "
                        + TrackedMetric.LOSS_DELTA);
            }
        }
        if (Set.copyOf(rollingMetrics).size() != rollingMetrics.size()) {
            throw new IllegalArgumentException("rolling metrics are listed twice: " + rollingMetrics);
        }
        if (batchRecords < 1 || batchRecords > 100_000) {
            throw new IllegalArgumentException("batch records must be in 1..100000, was " + batchRecords);
        }
        if (emitInterval == null || emitInterval.isNegative() || emitInterval.isZero()) {
            throw new IllegalArgumentException("emit interval must be positive, was " + emitInterval);
        }
        if (runStallTimeout == null || runStallTimeout.isNegative() || runStallTimeout.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("run stall timeout must be in 0 s (never) .. 30 days, was "
                    + (runStallTimeout == null ? null : runStallTimeout.toSeconds() + " s"));
        }
    }

    public static QuantilesSettings defaults() {
        return new QuantilesSettings(DEFAULT_METRICS, DEFAULT_SKETCH_K, DEFAULT_WATCHED_RUNS, DEFAULT_ROLLING_WINDOW,
                DEFAULT_ROLLING_METRICS, DEFAULT_BATCH_RECORDS, DEFAULT_EMIT_INTERVAL, DEFAULT_RUN_STALL_TIMEOUT);
    }

    public QuantilesSettings withMetrics(List<String> newMetrics) {
        return new QuantilesSettings(newMetrics, sketchK, watchedRuns, rollingWindow, rollingMetrics, batchRecords, emitInterval,
                runStallTimeout);
    }

    public QuantilesSettings withBatching(int newBatchRecords, Duration newEmitInterval) {
        return new QuantilesSettings(metrics, sketchK, watchedRuns, rollingWindow, rollingMetrics, newBatchRecords,
                newEmitInterval, runStallTimeout);
    }

    public QuantilesSettings withWatching(int newWatchedRuns, int newRollingWindow) {
        return new QuantilesSettings(metrics, sketchK, newWatchedRuns, newRollingWindow, rollingMetrics, batchRecords,
                emitInterval, runStallTimeout);
    }

    public QuantilesSettings withSketchK(int newSketchK) {
        return new QuantilesSettings(metrics, newSketchK, watchedRuns, rollingWindow, rollingMetrics, batchRecords,
                emitInterval, runStallTimeout);
    }

    public QuantilesSettings withRunStallTimeout(Duration newRunStallTimeout) {
        return new QuantilesSettings(metrics, sketchK, watchedRuns, rollingWindow, rollingMetrics, batchRecords,
                emitInterval, newRunStallTimeout);
    }
}
