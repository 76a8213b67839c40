package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.metrics.MeterNames.TAG_EXPERIMENT;
import static io.sgdscope.streams.metrics.MeterNames.TAG_METRIC;
import static io.sgdscope.streams.metrics.MeterNames.TAG_QUANTILE;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.ToDoubleFunction;

/**
 * The current band of each (experiment, metric): the cross-run distribution at the experiment's
 * frontier iteration (see {@link QuantilesTopology}; for a metric computed every k iterations, its
 * latest iteration at or before the frontier), as a read-only Java view and as gauges.
 *
 * <p>Holds the bands of the partitions this instance processes; with several instances of the app,
 * each shows its share (Prometheus scrapes them all). Thread-safe: stream threads publish, any
 * thread reads.
 */
public final class QuantileBands {

    private record Key(String experimentId, String metric) {}

    /** One published band and the gauges that read it. */
    private static final class Published {
        volatile CrossRunBand band;
        final List<Meter> meters = new ArrayList<>();

        Published(CrossRunBand band) {
            this.band = band;
        }
    }

    private final MeterRegistry registry;
    private final ConcurrentMap<Key, Published> published = new ConcurrentHashMap<>();

    /** @param registry where the band gauges are registered */
    public QuantileBands(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The band at the frontier iteration of this experiment and metric, if any value has arrived. */
    public Optional<CrossRunBand> current(String experimentId, String metric) {
        Published entry = published.get(new Key(experimentId, metric));
        return entry == null ? Optional.empty() : Optional.of(entry.band);
    }

    /** Every current band, by experiment then metric. */
    public List<CrossRunBand> all() {
        return published.values().stream()
                .map(entry -> entry.band)
                .sorted(Comparator.comparing(CrossRunBand::experimentId).thenComparing(CrossRunBand::metric))
                .toList();
    }

    /** Makes this band the current one of its experiment and metric; the first one registers the gauges. */
    void publish(CrossRunBand band) {
        published.compute(new Key(band.experimentId(), band.metric()), (key, entry) -> {
            if (entry == null) {
                Published created = new Published(band);
                register(key, created);
                return created;
            }
            entry.band = band;
            return entry;
        });
    }

    /**
     * Removes a band and its gauges, unless another one has been published since (a task that moved
     * to another thread of this instance may publish before the old one closes).
     */
    void withdraw(CrossRunBand band) {
        published.computeIfPresent(new Key(band.experimentId(), band.metric()), (key, entry) -> {
            if (entry.band != band) {
                return entry;
            }
            entry.meters.forEach(registry::remove);
            return null;
        });
    }

    private void register(Key key, Published entry) {
        Tags tags = Tags.of(TAG_EXPERIMENT, key.experimentId(), TAG_METRIC, key.metric());
        for (double level : Quantiles.LEVELS) {
            entry.meters.add(gauge(MeterNames.CROSS_RUN_QUANTILE, tags.and(TAG_QUANTILE, Quantiles.label(level)), entry,
                    band -> band.quantiles().at(level), "Cross-run quantile at the frontier iteration"));
        }
        entry.meters.add(gauge(MeterNames.CROSS_RUN_MEAN, tags, entry, CrossRunBand::mean,
                "Mean across runs at the frontier iteration (finite values)"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_VARIANCE, tags, entry, CrossRunBand::variance,
                "Unbiased sample variance across runs at the frontier iteration (finite values; Fig. 10 for lossDelta)"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_MIN, tags, entry, CrossRunBand::min,
                "Smallest value across runs at the frontier iteration"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_MAX, tags, entry, CrossRunBand::max,
                "Largest value across runs at the frontier iteration"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_RUNS, tags, entry, CrossRunBand::runs,
                "Runs that reached the frontier iteration"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_NON_FINITE, tags, entry, CrossRunBand::nonFinite,
                "Runs whose value at the frontier iteration was NaN or infinite"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_ITERATION, tags, entry, CrossRunBand::iteration,
                "Frontier iteration: the deepest iteration reached by the most runs"));
        entry.meters.add(gauge(MeterNames.CROSS_RUN_RANK_ERROR, tags, entry, CrossRunBand::normalizedRankError,
                "Normalised rank error bound of the quantiles (99 % confidence; 0 = exact)"));
        if (key.metric().equals(TrackedMetric.SUPERMARTINGALE_HELD)) {
            entry.meters.add(gauge(MeterNames.SUPERMARTINGALE_SHARE, Tags.of(TAG_EXPERIMENT, key.experimentId()), entry,
                    CrossRunBand::mean, "Share of the runs at the frontier iteration whose step keeps the super-martingale "
                            + "condition -eta ||mu||^2 + (eta^2/2) L Tr M <= 0 (Sec. 5.4): the phase indicator"));
        }
    }

    private Gauge gauge(String name, Tags tags, Published entry, ToDoubleFunction<CrossRunBand> value, String description) {
        return Gauge.builder(name, entry, published -> value.applyAsDouble(published.band))
                .tags(tags)
                .description(description)
                .strongReference(true)
                .register(registry);
    }
}
