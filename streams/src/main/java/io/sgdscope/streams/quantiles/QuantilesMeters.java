package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sgdscope.streams.metrics.MeterNames;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The quantiles app's own meters (README "Metrics"): its counters, registered per experiment (so each
 * exists at 0 from the experiment's first record on, which {@code increase()} needs) and looked up through
 * one map per experiment, and the record-latency histogram. One instance per processor; Micrometer hands
 * every instance the same meters.
 */
final class QuantilesMeters {

    /** The counters of one experiment. */
    static final class Experiment {
        final Counter iterationRecords;
        final Counter duplicateIterations;
        final Counter spectrumRecords;
        final Counter duplicateSpectra;
        final Counter lateRecords;

        private Experiment(MeterRegistry registry, String experimentId) {
            iterationRecords = counter(registry, experimentId, MeterNames.ITERATION_RECORDS,
                    "IterationMetrics records read by the quantiles app (a frame of n runs counts n)");
            duplicateIterations = counter(registry, experimentId, MeterNames.DUPLICATE_ITERATION_RECORDS,
                    "Records of an iteration the run had already sent, skipped");
            spectrumRecords = counter(registry, experimentId, MeterNames.SPECTRUM_RECORDS,
                    "SpectrumSnapshot records read by the quantiles app");
            duplicateSpectra = counter(registry, experimentId, MeterNames.DUPLICATE_SPECTRUM_RECORDS,
                    "Snapshots of an iteration the run had already sent, skipped");
            lateRecords = counter(registry, experimentId, MeterNames.LATE_RECORDS,
                    "Records of a run whose RunFinished had arrived, skipped");
        }
    }

    private final MeterRegistry registry;
    private final Map<String, Experiment> experiments = new HashMap<>();
    private final Map<String, Map<String, Counter>> nonFinite = new HashMap<>();
    private final Timer latency;

    QuantilesMeters(MeterRegistry registry) {
        this.registry = registry;
        this.latency = Timer.builder(MeterNames.RECORD_LATENCY)
                .description("Time from a trainer producing an IterationMetrics or IterationFrame (its record timestamp) "
                        + "to the quantiles app reading it; one sample per record")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
    }

    Experiment experiment(String experimentId) {
        Experiment counters = experiments.get(experimentId);
        if (counters == null) {
            counters = new Experiment(registry, experimentId);
            experiments.put(experimentId, counters);
        }
        return counters;
    }

    /** NaN or infinite values of a metric, kept out of the sketches. */
    Counter nonFinite(String experimentId, String metric) {
        return nonFinite.computeIfAbsent(experimentId, id -> new HashMap<>())
                .computeIfAbsent(metric, name -> Counter.builder(MeterNames.NON_FINITE_VALUES)
                        .tag(MeterNames.TAG_EXPERIMENT, experimentId)
                        .tag(MeterNames.TAG_METRIC, name)
                        .description("NaN or infinite values, counted but kept out of the sketch")
                        .register(registry));
    }

    /** The time from a record's timestamp (the producer's clock) to now (the app's), never below 0. */
    void recordLatency(long recordTimestampMillis, long nowMillis) {
        latency.record(Math.max(0, nowMillis - recordTimestampMillis), TimeUnit.MILLISECONDS);
    }

    private static Counter counter(MeterRegistry registry, String experimentId, String name, String description) {
        return Counter.builder(name).tag(MeterNames.TAG_EXPERIMENT, experimentId).description(description).register(registry);
    }
}
