package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.TopologyOnDriver;
import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.RunInputs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The frontier of an experiment sharded across trainer processes ({@code sgdscope train --shard i/N}): every
 * RunStarted names its shard i and the shard count N, and while no run of some shard has started the frontier shows no
 * band (the missing shard could still add a value to every iteration). Runs of one process that merely start one
 * after another are not waited for. On the test driver, in the style of {@link QuantilesTopologyTest}'s frontier tests.
 */
class ShardedFrontierTest {

    private static final String EXPERIMENT = "sharded";
    private static final QuantilesSettings LOSS_ONLY = QuantilesSettings.defaults().withBatching(1, Duration.ofMillis(100))
            .withMetrics(List.of("loss"));

    @TempDir
    Path stateDir;

    private TopologyOnDriver app;
    private PrometheusMeterRegistry registry;
    private QuantileBands bands;
    private ExperimentStatuses experiments;
    private TopologyTestDriver driver;
    private TestInputTopic<String, IterationMetrics> iterations;
    private TestInputTopic<String, SpecificRecord> runs;
    private TestOutputTopic<String, QuantileSummary> quantiles;

    private void startDriver() {
        app = new TopologyOnDriver(stateDir, meters -> {
            bands = new QuantileBands(meters);
            experiments = new ExperimentStatuses(meters);
            return new QuantilesTopology(LOSS_ONLY, 0, bands, experiments, meters, TopologyOnDriver.CLOCK).build();
        });
        registry = app.registry;
        driver = app.driver;
        iterations = app.iterations;
        runs = app.runs;
        quantiles = app.output(Topics.QUANTILES, TelemetrySerdes.quantiles());
    }

    @AfterEach
    void closeDriver() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void theFrontierShowsNoBandUntilARunOfTheLateShardHasStartedThenFollowsTheActiveRuns() {
        startDriver();
        // Shard 1 of 2 (runs 0 and 1 of 4) trains alone up to t = 5.
        start(EXPERIMENT, "s-r0", 0, 1, 2);
        start(EXPERIMENT, "s-r1", 1, 1, 2);
        for (int t = 0; t <= 5; t++) {
            pipe(EXPERIMENT, "s-r0", t, 1.0 / (t + 1));
            pipe(EXPERIMENT, "s-r1", t, 2.0 / (t + 1));
        }
        assertNoFrontier(EXPERIMENT);
        // The summaries themselves go out as always: 2 runs at t = 5 so far.
        assertEquals(2, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 5)).getCount());

        // Shard 2 begins: its first run's iteration arrives before its RunStarted (another topic). A run known by its
        // iterations alone names no shard: shard 2 is still missing.
        pipe(EXPERIMENT, "s-r2", 0, 3.0);
        assertNoFrontier(EXPERIMENT);
        start(EXPERIMENT, "s-r2", 2, 2, 2);
        // Every shard has a run now: the rule of active runs, with s-r3 (shard 2's next run) not started yet and
        // holding nothing back. The three active runs have all reached t = 0.
        assertFrontier(EXPERIMENT, 0, 3);
        start(EXPERIMENT, "s-r3", 3, 2, 2);
        assertFrontier(EXPERIMENT, 0, 3);                                   // it has sent nothing yet
        pipe(EXPERIMENT, "s-r3", 0, 4.0);
        assertFrontier(EXPERIMENT, 0, 4);
        for (int t = 1; t <= 5; t++) {
            pipe(EXPERIMENT, "s-r2", t, 3.0 / (t + 1));
            assertFrontier(EXPERIMENT, t - 1, 4);                           // s-r3 is not there yet
            pipe(EXPERIMENT, "s-r3", t, 4.0 / (t + 1));
            assertFrontier(EXPERIMENT, t, 4);
        }
        CrossRunBand last = bands.current(EXPERIMENT, "loss").orElseThrow();
        double[] atFive = {1.0 / 6, 2.0 / 6, 3.0 / 6, 4.0 / 6};
        assertEquals(atFive[1], last.median(), "the 2nd smallest of 4 (the ⌈0.5·n⌉-th)");
        assertEquals(atFive[0], last.min());
        assertEquals(atFive[3], last.max());
        assertEquals(new ExperimentStatus(EXPERIMENT, 5, 4, 0, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void runsOfOneProcessThatStartOneAfterAnotherAreNotWaitedFor() {
        startDriver();
        // An unsharded experiment of 4 runs trained one at a time (the per-run engine with fewer workers than runs):
        // every RunStarted says plannedRuns = 4, which is information, not a count to wait for.
        start(EXPERIMENT, "u-r0", 0, 4, 0, 0);
        for (int t = 0; t <= 3; t++) {
            pipe(EXPERIMENT, "u-r0", t, 1.0 / (t + 1));
            assertFrontier(EXPERIMENT, t, 1);                               // the band of the only run, at once
        }
        finish(EXPERIMENT, "u-r0", RunStatus.COMPLETED, 4, 0.2);
        assertFrontier(EXPERIMENT, 3, 1);
        // The next run starts, 2 runs of 4 known: it shows its progress against the run before it.
        start(EXPERIMENT, "u-r1", 1, 4, 0, 0);
        pipe(EXPERIMENT, "u-r1", 0, 2.0);
        assertFrontier(EXPERIMENT, 0, 2);
        pipe(EXPERIMENT, "u-r1", 1, 1.0);
        assertFrontier(EXPERIMENT, 1, 2);
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(0.5, band.min());
        assertEquals(1.0, band.max());
        assertEquals(new ExperimentStatus(EXPERIMENT, 1, 1, 1, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void aFrontierShownBeforeTheShardsWereKnownIsWithdrawnAndARunThatFinishedBeforeItsStartCountsOnceItStarts() {
        startDriver();
        // The iterations of shard 1's run reach the frontier before any RunStarted: nothing says the experiment is sharded.
        pipe(EXPERIMENT, "s-r0", 0, 1.0);
        pipe(EXPERIMENT, "s-r0", 1, 0.5);
        assertFrontier(EXPERIMENT, 1, 1);
        start(EXPERIMENT, "s-r0", 0, 1, 2);                                 // now it is: shard 1 of 2, shard 2 missing
        assertNoFrontier(EXPERIMENT);
        finish(EXPERIMENT, "s-r0", RunStatus.COMPLETED, 2, 0.25);
        assertNoFrontier(EXPERIMENT);                                       // finished, shard 2 still missing

        // Shard 2's only run trains and finishes before its RunStarted arrives: known by its iterations and its
        // RunFinished, which name no shard, so shard 2 is still missing ...
        pipe(EXPERIMENT, "s-r1", 0, 2.0);
        pipe(EXPERIMENT, "s-r1", 1, 1.5);
        finish(EXPERIMENT, "s-r1", RunStatus.COMPLETED, 2, 1.25);
        assertNoFrontier(EXPERIMENT);
        // ... until its start names it.
        start(EXPERIMENT, "s-r1", 1, 2, 2);
        assertFrontier(EXPERIMENT, 1, 2);
        assertEquals(new ExperimentStatus(EXPERIMENT, 1, 0, 2, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(0.5, band.min());
        assertEquals(1.5, band.max());
    }

    @Test
    void startsThatNameNoShardMoveTheFrontierAsBeforeAndExperimentsWaitOnlyForTheirOwnShards() {
        startDriver();
        start("older", "o-r0", 0, 0, 0, 0);                                 // an older trainer: neither plannedRuns nor shard
        start("unsharded", "u-r0", 0, 3, 0, 0);                             // plannedRuns only: 1 of 3 runs started
        start("sharded", "s-r0", 0, 1, 3);
        start("sharded", "s-r1", 1, 2, 3);                                  // 2 of 3 shards
        for (int t = 0; t <= 2; t++) {
            pipe("older", "o-r0", t, 1.0);
            pipe("unsharded", "u-r0", t, 1.0);
            pipe("sharded", "s-r0", t, 1.0);
            pipe("sharded", "s-r1", t, 1.0);
        }
        assertFrontier("older", 2, 1);
        assertFrontier("unsharded", 2, 1);
        assertNoFrontier("sharded");
        start("sharded", "s-r0", 0, 1, 3);                                  // a repeated start adds no shard
        assertNoFrontier("sharded");
        start("sharded", "s-r2", 2, 3, 3);
        assertFrontier("sharded", 2, 2);                                    // s-r2 has sent nothing yet
    }

    @Test
    void aRestartedFrontierTaskRebuildsTheShardsItHasSeenFromItsStore() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bands = new QuantileBands(registry);
        experiments = new ExperimentStatuses(registry);
        MockProcessorContext<Void, Void> context = new MockProcessorContext<>();
        store(context, QuantilesTopology.FRONTIER_RUNS_STORE, InternalSerdes.lifecycles());
        store(context, QuantilesTopology.FRONTIER_BANDS_STORE, InternalSerdes.bands());

        FrontierProcessor first = new FrontierProcessor(bands, experiments);
        first.init(context);
        // Shard 1 of 2's run: its first iteration before its start (the stored entry keeps the shard its start names).
        feed(first, FrontierEvent.of(RunLifecycle.active(EXPERIMENT, "s-r0", 0)));
        feed(first, FrontierEvent.of(RunLifecycle.started(EXPERIMENT, "s-r0", 1, 2)));
        feed(first, FrontierEvent.of(lossBand(3)));
        assertNoFrontier(EXPERIMENT);
        assertEquals(1, experiments.current(EXPERIMENT).orElseThrow().active());
        first.close();

        // Restarted from the store: shard 2 is still missing, though the one active run reached t = 3.
        FrontierProcessor second = new FrontierProcessor(bands, experiments);
        second.init(context);
        assertEquals(new ExperimentStatus(EXPERIMENT, -1, 1, 0, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
        assertNoFrontier(EXPERIMENT);
        feed(second, FrontierEvent.of(RunLifecycle.started(EXPERIMENT, "s-r1", 2, 2)));
        assertFrontier(EXPERIMENT, 3, 1);
        second.close();

        // Both shards are in the store now.
        FrontierProcessor third = new FrontierProcessor(bands, experiments);
        third.init(context);
        assertFrontier(EXPERIMENT, 3, 1);
        third.close();
    }

    private static <V> void store(MockProcessorContext<Void, Void> context, String name, Serde<V> serde) {
        KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), serde)
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
    }

    private static void feed(FrontierProcessor processor, FrontierEvent event) {
        processor.process(new Record<>(event.experimentId(), event, 0L));
    }

    /** The loss band of one run's value 0.5 at iteration {@code t}. */
    private static CrossRunBand lossBand(int t) {
        double[] quantiles = new double[Quantiles.LEVELS.size()];
        java.util.Arrays.fill(quantiles, 0.5);
        return new CrossRunBand(EXPERIMENT, "loss", t, 1, 0, 0.5, Double.NaN, 0.5, 0.5, Quantiles.of(quantiles), 0, 0L);
    }

    @Test
    void startsCarryTheirShardAcrossTheRepartitionTopicAndOlderFormatsStillRead() {
        Serde<RunInput> serde = RunInputs.serde();
        RunInput.Started started = new RunInput.Started("e-r00007", "e", 7, "sgd", 1150, "e-r00004", 2, 3);
        assertEquals(started, serde.deserializer().deserialize("t", serde.serializer().serialize("t", started)));
        RunInput.Started unsharded = new RunInput.Started("e-r00007", "e", 7, "sgd", 1150, "e-r00004");
        assertEquals(unsharded, serde.deserializer().deserialize("t", serde.serializer().serialize("t", unsharded)));

        RunStarted record = Telemetry.started("e", "e-r1", 1, "sgd", 9);
        record.setPlannedRuns(6000);
        assertEquals(List.of(0, 0), shard(RunInput.Started.of(record)), "not sharded: 0/0, whatever plannedRuns says");
        record.setShardIndex(2);
        record.setShardCount(3);
        assertEquals(List.of(2, 3), shard(RunInput.Started.of(record)));
        record.setShardCount(null);
        assertEquals(List.of(0, 0), shard(RunInput.Started.of(record)), "an index without a count: not sharded");
        record.setShardCount(1);
        assertEquals(List.of(0, 0), shard(RunInput.Started.of(record)), "shard 2 of 1: malformed, not sharded");
        assertThrows(IllegalArgumentException.class, () -> new RunInput.Started("r", "e", 0, "sgd", 1, "r", 0, 2));

        // Format 1 (before frame keys and shards) still reads: its own run id as frame key, no shard.
        byte[] format1 = Codec.write((byte) 1, started, (out, value) -> {
            out.writeByte('B');
            out.writeUTF(value.runId());
            out.writeUTF(value.experimentId());
            out.writeInt(value.runIndex());
            out.writeUTF(value.optimizer());
            out.writeLong(value.parameterCount());
        });
        assertEquals(new RunInput.Started("e-r00007", "e", 7, "sgd", 1150, "e-r00007", 0, 0),
                serde.deserializer().deserialize("t", format1));

        Serde<RunLifecycle> lifecycles = InternalSerdes.lifecycles();
        RunLifecycle lifecycle = RunLifecycle.started("e", "e-r00007", 2, 3);
        assertEquals(lifecycle, lifecycles.deserializer().deserialize("t", lifecycles.serializer().serialize("t", lifecycle)));
        Serde<FrontierEvent> events = InternalSerdes.frontierEvents();
        RunLifecycle finished = RunLifecycle.finished("e", "e-r00007", RunStatus.DIVERGED, 12).withShardOf(lifecycle);
        assertEquals(List.of(2, 3), List.of(finished.shardIndex(), finished.shardCount()), "the shard of its start, kept");
        FrontierEvent event = FrontierEvent.of(finished);
        assertEquals(event, events.deserializer().deserialize("t", events.serializer().serialize("t", event)));
        // A lifecycle stored in format 1 (before shards) reads with no shard.
        byte[] lifecycle1 = Codec.write((byte) 1, lifecycle, (out, value) -> {
            out.writeUTF(value.experimentId());
            out.writeUTF(value.runId());
            out.writeByte(RunLifecycle.Kind.ACTIVE.ordinal());
            out.writeNullableString(null);
            out.writeInt(3);
        });
        assertEquals(RunLifecycle.active("e", "e-r00007", 3), lifecycles.deserializer().deserialize("t", lifecycle1));
        // A frontier event of format 1 carried its lifecycle without a format byte: format 1 of the lifecycle.
        byte[] event1 = Codec.write((byte) 1, lifecycle, (out, value) -> {
            out.writeByte('L');
            out.writeUTF(value.experimentId());
            out.writeUTF(value.runId());
            out.writeByte(RunLifecycle.Kind.FINISHED.ordinal());
            out.writeNullableString(RunStatus.COMPLETED.name());
            out.writeInt(9);
        });
        assertEquals(FrontierEvent.of(RunLifecycle.finished("e", "e-r00007", RunStatus.COMPLETED, 9)),
                events.deserializer().deserialize("t", event1));
    }

    private static List<Integer> shard(RunInput.Started started) {
        return List.of(started.shardIndex(), started.shardCount());
    }

    private void pipe(String experiment, String run, int t, double loss) {
        iterations.pipeInput(run, iteration(experiment, run, t, loss));
    }

    /** A RunStarted of shard {@code shardIndex} of {@code shardCount} (0 and 0: not sharded), saying plannedRuns = 4. */
    private void start(String experiment, String run, int index, int shardIndex, int shardCount) {
        start(experiment, run, index, 4, shardIndex, shardCount);
    }

    /** A RunStarted; 0 leaves plannedRuns, shardIndex and shardCount null. */
    private void start(String experiment, String run, int index, int plannedRuns, int shardIndex, int shardCount) {
        RunStarted record = Telemetry.started(experiment, run, index, "sgd", 1150);
        record.setPlannedRuns(plannedRuns > 0 ? plannedRuns : null);
        record.setShardIndex(shardIndex > 0 ? shardIndex : null);
        record.setShardCount(shardCount > 0 ? shardCount : null);
        runs.pipeInput(Topics.runStartedKey(run), record);
    }

    private void finish(String experiment, String run, RunStatus status, int iterationCount, Double finalLoss) {
        runs.pipeInput(Topics.runFinishedKey(run), Telemetry.finished(experiment, run, status, iterationCount, finalLoss));
    }

    private void assertFrontier(String experiment, int iteration, long runCount) {
        CrossRunBand band = bands.current(experiment, "loss").orElseThrow(() -> new AssertionError("no band shown"));
        assertEquals(iteration, band.iteration(), "frontier iteration");
        assertEquals(runCount, band.runs(), "runs at the frontier");
        assertEquals(iteration, experiments.current(experiment).orElseThrow().frontierIteration());
    }

    private void assertNoFrontier(String experiment) {
        Optional<CrossRunBand> band = bands.current(experiment, "loss");
        assertTrue(band.isEmpty(), "no band while a shard is missing, got " + band);
        assertEquals(-1, experiments.current(experiment).map(ExperimentStatus::frontierIteration).orElse(-1));
        assertTrue(registry.find(io.sgdscope.streams.metrics.MeterNames.CROSS_RUN_QUANTILE)
                .tags("experiment", experiment).gauges().isEmpty(), "no band gauges either");
    }
}
