package io.sgdscope.streams.deviation;

import static io.sgdscope.streams.internals.StoredProcessors.withStores;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.runs.AppScope;
import io.sgdscope.streams.runs.RunInputs;
import java.time.Clock;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The deviation checks of §5.2–5.4, per run, a block of runs at a time:
 *
 * <pre>
 * sgd.iterations (frames) + sgd.runs, by frame key ({@link RunInputs})
 *   → deviation: pair t with t + 1; Theorem 1 exceedances and their binomial test, the martingale
 *                against Theorem 2's envelope, the super-martingale condition, divergence
 *                [store run-deviation, by frame key: one entry per block of runs]
 *   → sgd.alerts (key runId, DeviationAlert)
 * </pre>
 *
 * See {@link DeviationProcessor} for what each check does and when an alert is raised.
 */
public final class DeviationTopology {

    public static final String RUN_DEVIATION_STORE = "run-deviation";
    /**
     * Blocks whose state stays decoded in memory between commits: a block of one run (per-run publishing) is
     * under a kilobyte, one of the ensemble engine's frames about 0.3 KB per run.
     */
    static final int CACHED_BLOCKS = 20_000;

    private final DeviationSettings settings;
    private final AppScope scope;
    private final int partitions;
    private final MeterRegistry registry;
    private final MeterGroups watchedGauges;
    private final AlertLog alerts;
    private final Clock clock;

    /**
     * @param partitions partitions of sgd.iterations (the repartition topic of sgd.runs gets as many), or 0
     * @param alerts where raised alerts are also logged in memory
     * @param clock the wall clock of {@code raisedAtMillis}
     */
    public DeviationTopology(DeviationSettings settings, int partitions, MeterRegistry registry, AlertLog alerts, Clock clock) {
        this(settings, partitions, registry, alerts, clock, AppScope.LIVE);
    }

    /** @param scope what is read and where the alerts go (a replay's own topic) */
    public DeviationTopology(DeviationSettings settings, int partitions, MeterRegistry registry, AlertLog alerts, Clock clock,
                             AppScope scope) {
        this.scope = Objects.requireNonNull(scope, "scope");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (partitions < 0) {
            throw new IllegalArgumentException("partitions must be >= 0 (0 = unknown), was " + partitions);
        }
        this.partitions = partitions;
        this.registry = Objects.requireNonNull(registry, "registry");
        this.watchedGauges = new MeterGroups(registry);
        this.alerts = Objects.requireNonNull(alerts, "alerts");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Topology build() {
        StreamsBuilder builder = new StreamsBuilder();
        RunInputs.stream(builder, partitions, false, scope)
                .process(withStores(() -> new DeviationProcessor(settings, registry, watchedGauges, alerts, clock),
                        WriteBackStore.builder(RUN_DEVIATION_STORE, BlockDeviation.serde(settings.window()), true, CACHED_BLOCKS)),
                        Named.as("deviation"))
                .to(scope.alertsTopic(), Produced.with(Serdes.String(), TelemetrySerdes.alerts()).withName("alerts"));
        return builder.build();
    }
}
