package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.internals.StoredProcessors.withStores;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.AppScope;
import io.sgdscope.streams.runs.RunInputs;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * Cross-run quantiles (§5.1, Fig. 8–10): for each experiment, metric and iteration, the distribution of
 * the metric across the experiment's runs, updated as the runs' values arrive.
 *
 * <pre>
 * sgd.iterations (frames) + sgd.runs + sgd.spectra, by frame key ({@link RunInputs})
 *   → run-values:    column by column per frame: count each (run, iteration) once [store run-state, one
 *                    entry per block of runs]; late records of finished runs; finishes wait for the
 *                    iterations they announce; pair t with t + 1 for Δ_t; rolling windows of watched runs;
 *                    batch the values of each (experiment, iteration) [store partial-values]
 *   ├→ batches → repartition values-by-iteration (by experiment/iteration)
 *   │    → distributions: add to the KLL sketch of each metric [store cross-run-distributions]
 *   │    ├→ sgd.quantiles (key experiment/metric/iteration, QuantileSummary): every update
 *   │    └→ repartition bands-by-experiment ┐
 *   └→ run lifecycles (active, finished) → repartition lifecycles-by-experiment ┤
 *        → frontiers: the frontier of each experiment [stores frontier-runs, frontier-bands]
 *          → QuantileBands, ExperimentStatuses (gauges)
 * </pre>
 *
 * <p>The frontier is defined in {@link ExperimentFrontier}: the latest iteration every active run has
 * reached; finished runs (completed, diverged, cancelled) do not hold it back.
 *
 * <p>Sketch size: KLL with k = {@value QuantilesSettings#DEFAULT_SKETCH_K} has an a-priori normalised rank
 * error of 0.90 % (one quantile, 99 % confidence), the smallest round k under the 1 % we promise; k = 200
 * gives 1.33 %. It holds up to k values exactly, so small ensembles get exact order statistics, and it
 * stays under ~7 KB at 10,000 runs.
 */
public final class QuantilesTopology {

    public static final int DEFAULT_SKETCH_K = QuantilesSettings.DEFAULT_SKETCH_K;

    public static final String RUN_STATE_STORE = "run-state";
    public static final String PARTIAL_VALUES_STORE = "partial-values";
    public static final String DISTRIBUTIONS_STORE = "cross-run-distributions";
    public static final String FRONTIER_RUNS_STORE = "frontier-runs";
    public static final String FRONTIER_BANDS_STORE = "frontier-bands";
    /**
     * Sketches kept decoded in memory per task between commits: ~8 KB each at 10,000 runs (k = 300), so at
     * most ~8 MB a task; runs in lockstep touch 20 metrics x a few iterations at a time.
     */
    static final int CACHED_SKETCHES = 1_024;

    private final QuantilesSettings settings;
    private final AppScope scope;
    private final int partitions;
    private final QuantileBands bands;
    private final ExperimentStatuses statuses;
    private final MeterGroups watchedGauges;
    private final MeterRegistry registry;
    private final Clock clock;

    /**
     * @param partitions partitions of sgd.iterations (the repartition topics get as many), or 0 if unknown
     * @param bands where the frontier bands are published (and registered as gauges)
     * @param statuses where the experiments' frontiers and run counts are published
     * @param registry where the counters and the watched runs' gauges are registered
     * @param clock the wall clock of {@code updatedAtMillis}
     */
    public QuantilesTopology(QuantilesSettings settings, int partitions, QuantileBands bands, ExperimentStatuses statuses,
                             MeterRegistry registry, Clock clock) {
        this(settings, partitions, bands, statuses, registry, clock, AppScope.LIVE);
    }

    /** @param scope what is read and where the summaries go (a replay's own topic) */
    public QuantilesTopology(QuantilesSettings settings, int partitions, QuantileBands bands, ExperimentStatuses statuses,
                             MeterRegistry registry, Clock clock, AppScope scope) {
        this.scope = Objects.requireNonNull(scope, "scope");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be >= 0 (0 = unknown), was " + partitions);
        }
        this.partitions = partitions;
        this.bands = Objects.requireNonNull(bands, "bands");
        this.statuses = Objects.requireNonNull(statuses, "statuses");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.watchedGauges = new MeterGroups(registry);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        boolean spectra = settings.metrics().stream()
                .anyMatch(name -> TrackedMetric.named(name).source() == TrackedMetric.Source.SPECTRUM);
        KStream<String, RunInput> inputs = RunInputs.stream(builder, partitions, spectra, scope);

        Map<String, KStream<String, Object>> outputs = inputs
                .process(withStores(() -> new RunValuesProcessor(settings, scope.firstIteration(), scope.lastIteration(),
                                registry, watchedGauges),
                        WriteBackStore.builder(RUN_STATE_STORE, RunBlock.serde(), true, RunValuesProcessor.CACHED_BLOCKS),
                        WriteBackStore.builder(PARTIAL_VALUES_STORE, PartialValues.serde(), false, 0)),
                        Named.as("run-values"))
                .split(Named.as("run-"))
                .branch((key, value) -> value instanceof PartialValues, Branched.as("batches"))
                .branch((key, value) -> value instanceof RunLifecycle, Branched.as("lifecycles"))
                .noDefaultBranch();

        KStream<String, CrossRunBand> updatedBands = outputs.get("run-batches")
                .mapValues(value -> (PartialValues) value, Named.as("as-batches"))
                .repartition(repartitioned("values-by-iteration", PartialValues.serde()))
                .process(withStores(() -> new DistributionProcessor(settings.sketchK(), registry, clock),
                        WriteBackStore.builder(DISTRIBUTIONS_STORE, CrossRunDistribution.serde(), true, CACHED_SKETCHES)),
                        Named.as("distributions"));

        updatedBands
                .mapValues(CrossRunBand::toSummary, Named.as("summaries"))
                .to(scope.quantilesTopic(), Produced.with(Serdes.String(), TelemetrySerdes.quantiles()).withName("quantiles"));

        KStream<String, FrontierEvent> bandEvents = updatedBands
                .map((quantileKey, band) -> KeyValue.pair(band.experimentId(), FrontierEvent.of(band)), Named.as("band-events"))
                .repartition(repartitioned("bands-by-experiment", InternalSerdes.frontierEvents()));
        KStream<String, FrontierEvent> lifecycleEvents = outputs.get("run-lifecycles")
                .mapValues(value -> FrontierEvent.of((RunLifecycle) value), Named.as("lifecycle-events"))
                .repartition(repartitioned("lifecycles-by-experiment", InternalSerdes.frontierEvents()));

        bandEvents.merge(lifecycleEvents, Named.as("frontier-events"))
                .process(withStores(() -> new FrontierProcessor(bands, statuses),
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FRONTIER_RUNS_STORE),
                                Serdes.String(), InternalSerdes.lifecycles()).withCachingEnabled(),
                        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FRONTIER_BANDS_STORE),
                                Serdes.String(), InternalSerdes.bands()).withCachingEnabled()),
                        Named.as("frontiers"));

        return builder.build();
    }

    private <V> Repartitioned<String, V> repartitioned(String name, Serde<V> values) {
        Repartitioned<String, V> repartitioned = Repartitioned.with(Serdes.String(), values).withName(name);
        return partitions > 0 ? repartitioned.withNumberOfPartitions(partitions) : repartitioned;
    }
}
