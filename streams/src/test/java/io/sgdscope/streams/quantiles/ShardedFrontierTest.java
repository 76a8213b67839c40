package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.RunInputs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The frontier of an experiment sharded across trainer processes ({@code sgdscope train --shard i/N}): every
 * RunStarted says how many runs the whole experiment plans, and while fewer have started the frontier shows no
 * band (the missing shard could still add a value to every iteration). On the test driver, in the style of
 * {@link QuantilesTopologyTest}'s frontier tests.
 */
class ShardedFrontierTest {

    private static final String EXPERIMENT = "sharded";
    private static final QuantilesSettings LOSS_ONLY = QuantilesSettings.defaults().withBatching(1, Duration.ofMillis(100))
            .withMetrics(List.of("loss"));

    @TempDir
    Path stateDir;

    private PrometheusMeterRegistry registry;
    private QuantileBands bands;
    private ExperimentStatuses experiments;
    private TopologyTestDriver driver;
    private TestInputTopic<String, IterationMetrics> iterations;
    private TestInputTopic<String, SpecificRecord> runs;
    private TestOutputTopic<String, QuantileSummary> quantiles;

    private void startDriver() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bands = new QuantileBands(registry);
        experiments = new ExperimentStatuses(registry);
        Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        QuantilesTopology topology = new QuantilesTopology(LOSS_ONLY, 0, bands, experiments, registry, clock);
        driver = new TopologyTestDriver(topology.build(), Telemetry.driverProperties(stateDir, registry));
        iterations = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), TelemetrySerdes.iterations());
        runs = driver.createInputTopic(Topics.RUNS, new StringSerializer(), TelemetrySerdes.runs());
        quantiles = driver.createOutputTopic(Topics.QUANTILES, new StringDeserializer(), TelemetrySerdes.quantiles());
    }

    @AfterEach
    void closeDriver() {
        if (driver != null) {
            driver.close();
            registry.close();
        }
    }

    @Test
    void theFrontierShowsNoBandUntilTheLateShardHasStartedAndThenWaitsForItsRuns() {
        startDriver();
        // Shard 1 of 2 (runs 0 and 1 of 4 planned) trains alone up to t = 5.
        start(EXPERIMENT, "s-r0", 0, 4);
        start(EXPERIMENT, "s-r1", 1, 4);
        for (int t = 0; t <= 5; t++) {
            pipe(EXPERIMENT, "s-r0", t, 1.0 / (t + 1));
            pipe(EXPERIMENT, "s-r1", t, 2.0 / (t + 1));
        }
        assertNoFrontier(EXPERIMENT);
        // The summaries themselves go out as always: 2 runs at t = 5 so far.
        assertEquals(2, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 5)).getCount());

        // Shard 2 begins: its first run's iteration arrives before its RunStarted (another topic), then the other starts.
        pipe(EXPERIMENT, "s-r2", 0, 3.0);
        assertNoFrontier(EXPERIMENT);                                       // 3 of 4 runs known
        start(EXPERIMENT, "s-r2", 2, 4);
        assertNoFrontier(EXPERIMENT);
        start(EXPERIMENT, "s-r3", 3, 4);
        // All 4 known; s-r3 has sent nothing yet, so (as for runs trained one after another) it holds nothing back:
        // the three active runs have all reached t = 0.
        assertFrontier(EXPERIMENT, 0, 3);
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
    void aFrontierShownBeforeThePlannedRunsWereKnownIsWithdrawnAndFinishedRunsCountAsKnown() {
        startDriver();
        // The iterations of shard 1's run reach the frontier before any RunStarted: nothing says the experiment is sharded.
        pipe(EXPERIMENT, "s-r0", 0, 1.0);
        pipe(EXPERIMENT, "s-r0", 1, 0.5);
        assertFrontier(EXPERIMENT, 1, 1);
        start(EXPERIMENT, "s-r0", 0, 2);                                    // now it is: 1 of 2 planned runs
        assertNoFrontier(EXPERIMENT);
        finish(EXPERIMENT, "s-r0", RunStatus.COMPLETED, 2, 0.25);
        assertNoFrontier(EXPERIMENT);                                       // finished, still 1 of 2

        // Shard 2's only run ends (say, it failed at once) before its RunStarted arrives: known, so the wait is over.
        finish(EXPERIMENT, "s-r1", RunStatus.FAILED, 0, null);
        assertFrontier(EXPERIMENT, 1, 1);
        start(EXPERIMENT, "s-r1", 1, 2);                                    // late, changes nothing
        assertFrontier(EXPERIMENT, 1, 1);
        assertEquals(new ExperimentStatus(EXPERIMENT, 1, 0, 1, 0, 0, 1, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void withoutPlannedRunsTheFrontierMovesAsBeforeAndExperimentsWaitOnlyForTheirOwnRuns() {
        startDriver();
        start("older", "o-r0", 0, 0);                                       // a trainer that does not say plannedRuns
        start("sharded", "s-r0", 0, 3);
        for (int t = 0; t <= 2; t++) {
            pipe("older", "o-r0", t, 1.0);
            pipe("sharded", "s-r0", t, 1.0);
        }
        assertFrontier("older", 2, 1);
        assertNoFrontier("sharded");
    }

    @Test
    void startsCarryThePlannedRunsAcrossTheRepartitionTopicAndOlderFormatsStillRead() {
        Serde<RunInput> serde = RunInputs.serde();
        RunInput.Started started = new RunInput.Started("e-r00007", "e", 7, "sgd", 1150, "e-r00004", 6000);
        assertEquals(started, serde.deserializer().deserialize("t", serde.serializer().serialize("t", started)));
        RunStarted record = Telemetry.started("e", "e-r1", 1, "sgd", 9);
        assertEquals(0, RunInput.Started.of(record).plannedRuns(), "not said: 0");
        record.setPlannedRuns(6000);
        assertEquals(6000, RunInput.Started.of(record).plannedRuns());
        // Format 1 (before frame keys and planned runs) still reads: its own run id as frame key, 0 planned runs.
        byte[] format1 = Codec.write((byte) 1, started, (out, value) -> {
            out.writeByte('B');
            out.writeUTF(value.runId());
            out.writeUTF(value.experimentId());
            out.writeInt(value.runIndex());
            out.writeUTF(value.optimizer());
            out.writeLong(value.parameterCount());
        });
        assertEquals(new RunInput.Started("e-r00007", "e", 7, "sgd", 1150, "e-r00007", 0),
                serde.deserializer().deserialize("t", format1));

        Serde<RunLifecycle> lifecycles = InternalSerdes.lifecycles();
        RunLifecycle lifecycle = RunLifecycle.started("e", "e-r00007", 6000);
        assertEquals(lifecycle, lifecycles.deserializer().deserialize("t", lifecycles.serializer().serialize("t", lifecycle)));
        Serde<FrontierEvent> events = InternalSerdes.frontierEvents();
        FrontierEvent event = FrontierEvent.of(RunLifecycle.finished("e", "e-r00007", RunStatus.DIVERGED, 12).withPlannedRuns(40));
        assertEquals(event, events.deserializer().deserialize("t", events.serializer().serialize("t", event)));
        // A lifecycle stored in format 1 (before plannedRuns) reads with 0 planned runs.
        byte[] lifecycle1 = Codec.write((byte) 1, lifecycle, (out, value) -> {
            out.writeUTF(value.experimentId());
            out.writeUTF(value.runId());
            out.writeByte(RunLifecycle.Kind.ACTIVE.ordinal());
            out.writeNullableString(null);
            out.writeInt(3);
        });
        assertEquals(RunLifecycle.active("e", "e-r00007", 3), lifecycles.deserializer().deserialize("t", lifecycle1));
    }

    private void pipe(String experiment, String run, int t, double loss) {
        iterations.pipeInput(run, iteration(experiment, run, t, loss));
    }

    private void start(String experiment, String run, int index, int plannedRuns) {
        RunStarted record = Telemetry.started(experiment, run, index, "sgd", 1150);
        record.setPlannedRuns(plannedRuns > 0 ? plannedRuns : null);
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
        assertTrue(band.isEmpty(), "no band while planned runs are missing, got " + band);
        assertEquals(-1, experiments.current(experiment).map(ExperimentStatus::frontierIteration).orElse(-1));
        assertTrue(registry.find(io.sgdscope.streams.metrics.MeterNames.CROSS_RUN_QUANTILE)
                .tags("experiment", experiment).gauges().isEmpty(), "no band gauges either");
    }
}
