package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.TopologyOnDriver;
import io.sgdscope.streams.metrics.MeterNames;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantiles topology on the test driver. References are computed here from the values fed in:
 * exact sums in BigDecimal, exact order statistics and ranks from the sorted values.
 *
 * <p>Quantile definition checked (the topology's, see {@link Quantiles}): the q-quantile of n values is
 * the ⌈q·n⌉-th smallest.
 */
class QuantilesTopologyTest {

    private static final String EXPERIMENT = "gauss10";
    /** The quantile levels in percent, so that ⌈q·n⌉ is integer arithmetic here. */
    private static final int[] PERCENTS = {5, 10, 25, 50, 75, 90, 95};
    /** Every record goes on at once, so that outputs follow each input. */
    private static final QuantilesSettings AT_ONCE = QuantilesSettings.defaults().withBatching(1, Duration.ofMillis(100));
    private static final QuantilesSettings LOSS_ONLY = AT_ONCE.withMetrics(List.of("loss"));

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

    private void startDriver(QuantilesSettings settings) {
        app = new TopologyOnDriver(stateDir, meters -> {
            bands = new QuantileBands(meters);
            experiments = new ExperimentStatuses(meters);
            return new QuantilesTopology(settings, 0, bands, experiments, meters, TopologyOnDriver.CLOCK).build();
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
    void summaryOfManyRunsHasExactCountMeanMinMaxAndQuantilesWithinTheSketchBound() {
        startDriver(LOSS_ONLY);
        int runCount = 2_000;
        int[] iterationsFed = {0, 1, 7};
        Random random = new Random(42);
        Map<Integer, double[]> losses = new HashMap<>();
        for (int t : iterationsFed) {
            losses.put(t, new double[runCount]);
        }
        // Runs in lockstep: every run's iteration t before any run's t + 1.
        for (int t : iterationsFed) {
            for (int run = 0; run < runCount; run++) {
                double loss = Math.exp(random.nextGaussian() - 0.3 * t); // log-normal, like losses across seeds
                losses.get(t)[run] = loss;
                pipe(EXPERIMENT, "run-" + run, t, loss);
            }
        }

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertEquals(iterationsFed.length, latest.size(), "one summary key per iteration");
        for (int t : iterationsFed) {
            QuantileSummary summary = latest.get(Topics.quantileKey(EXPERIMENT, "loss", t));
            double[] sorted = losses.get(t).clone();
            Arrays.sort(sorted);

            assertEquals(runCount, summary.getCount());
            assertEquals(exactMean(sorted), summary.getMean(), 1e-14 * Math.abs(exactMean(sorted)), "mean at " + t);
            assertEquals(sorted[0], summary.getMin(), "min at " + t);
            assertEquals(sorted[runCount - 1], summary.getMax(), "max at " + t);
            assertTrue(summary.getNormalizedRankError() > 0, "2,000 values are more than k: the sketch estimates");

            double[] estimates = quantilesOf(summary);
            for (int i = 0; i < PERCENTS.length; i++) {
                double error = rankError(sorted, estimates[i], PERCENTS[i] / 100.0);
                assertTrue(error <= summary.getNormalizedRankError(), "iteration " + t + ", " + PERCENTS[i]
                        + " %: rank error " + error + " > bound " + summary.getNormalizedRankError());
            }
        }
    }

    @Test
    void withAtMostKValuesTheQuantilesAreTheExactOrderStatistics() {
        startDriver(LOSS_ONLY);
        int[] ensembleSizes = {1, 5, 37, 100, QuantilesTopology.DEFAULT_SKETCH_K};
        Random random = new Random(7);
        for (int n : ensembleSizes) {
            String experiment = "ensemble-of-" + n;
            double[] values = new double[n];
            for (int run = 0; run < n; run++) {
                values[run] = 2.3 * random.nextDouble();
                pipe(experiment, experiment + "-run-" + run, 0, values[run]);
            }
            double[] sorted = values.clone();
            Arrays.sort(sorted);

            QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(experiment, "loss", 0));
            assertEquals(n, summary.getCount());
            assertEquals(0.0, summary.getNormalizedRankError(), "every value is kept while n <= k");
            double[] estimates = quantilesOf(summary);
            for (int i = 0; i < PERCENTS.length; i++) {
                int rank = (PERCENTS[i] * n + 99) / 100; // ⌈q·n⌉, 1-based
                assertEquals(sorted[rank - 1], estimates[i], n + " values, " + PERCENTS[i] + " %");
            }
        }
    }

    @Test
    void theEndToEndLatencyIsTheTimeFromTheRecordTimestampToProcessing() {
        startDriver(LOSS_ONLY);
        long now = System.currentTimeMillis();
        iterations.pipeInput("run-a", iteration(EXPERIMENT, "run-a", 0, 1.0), now - 2_000);
        iterations.pipeInput("run-b", iteration(EXPERIMENT, "run-b", 0, 1.0), now - 4_000);
        io.micrometer.core.instrument.Timer latency = registry.find(io.sgdscope.streams.metrics.MeterNames.RECORD_LATENCY).timer();
        assertEquals(2, latency.count());
        // Produced 2 s and 4 s ago: 6 s in all, plus the little time the test itself took.
        double total = latency.totalTime(java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(total >= 6.0 && total < 6.0 + 2 * (System.currentTimeMillis() - now) / 1000.0 + 0.5, "total " + total);
        assertTrue(registry.scrape().contains("sgdscope_record_latency_seconds_bucket{"), "a histogram Prometheus can take quantiles of");
    }

    @Test
    void tenThousandValuesKeepEveryQuantileWithinOnePercentOfRank() {
        startDriver(LOSS_ONLY);
        int runCount = 10_000;
        Random random = new Random(2026);
        double[] values = new double[runCount];
        List<KeyValue<String, IterationMetrics>> records = new ArrayList<>(runCount);
        for (int run = 0; run < runCount; run++) {
            values[run] = Math.exp(2 * random.nextGaussian());
            records.add(KeyValue.pair("run-" + run, iteration(EXPERIMENT, "run-" + run, 3, values[run])));
        }
        iterations.pipeKeyValueList(records);
        Arrays.sort(values);

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 3));
        assertEquals(runCount, summary.getCount());
        double[] estimates = quantilesOf(summary);
        for (int i = 0; i < PERCENTS.length; i++) {
            double error = rankError(values, estimates[i], PERCENTS[i] / 100.0);
            assertTrue(error <= 0.01, PERCENTS[i] + " %: normalised rank error " + error + " > 1 %");
        }
    }

    @Test
    void lossDeltaIsTheDifferenceOfSuccessiveLossesAndItsVarianceAcrossRunsIsExact() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)));
        double[][] losses = {{2.30, 1.90, 1.70}, {2.25, 2.05, 1.20}, {2.40, 1.60, 1.55}, {2.10, 2.20, 1.00}};
        for (int t = 0; t < 3; t++) {
            for (int run = 0; run < losses.length; run++) {
                pipe(EXPERIMENT, "run-" + run, t, losses[run][t]);
            }
        }

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertNull(latest.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, 2)), "Δ_2 needs iteration 3");
        for (int t = 0; t < 2; t++) {
            double[] deltas = new double[losses.length];
            for (int run = 0; run < losses.length; run++) {
                deltas[run] = losses[run][t + 1] - losses[run][t]; // Eq. 22, by hand
            }
            QuantileSummary summary = latest.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, t));
            double[] sorted = deltas.clone();
            Arrays.sort(sorted);
            assertEquals(4, summary.getCount(), "Δ at " + t);
            assertEquals(sorted[0], summary.getMin());
            assertEquals(sorted[3], summary.getMax());
            assertEquals(sorted[1], summary.getP50(), "⌈0.5·4⌉ = 2nd smallest");
            assertEquals(exactMean(deltas), summary.getMean(), 1e-15);
        }
        // The frontier band of Δ carries the variance (Fig. 10): here at iteration 1, the latest Δ at or before t = 2.
        CrossRunBand band = bands.current(EXPERIMENT, TrackedMetric.LOSS_DELTA).orElseThrow();
        assertEquals(1, band.iteration());
        double[] deltasAt1 = {1.70 - 1.90, 1.20 - 2.05, 1.55 - 1.60, 1.00 - 2.20};
        assertEquals(exactSampleVariance(deltasAt1), band.variance(), 1e-15);
        assertEquals(band.variance(), registry.get(MeterNames.CROSS_RUN_VARIANCE)
                .tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_METRIC, TrackedMetric.LOSS_DELTA).gauge().value());
    }

    @Test
    void recordsOutOfOrderWithinARunGiveTheSameDeltasAndARepeatedOneIsCountedOnce() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)));
        pipe(EXPERIMENT, "in-order", 0, 3.0);
        pipe(EXPERIMENT, "in-order", 1, 2.0);
        pipe(EXPERIMENT, "in-order", 2, 1.5);
        pipe(EXPERIMENT, "shuffled", 2, 0.5);
        pipe(EXPERIMENT, "shuffled", 0, 2.0);
        pipe(EXPERIMENT, "shuffled", 2, 0.5); // a repeat of an iteration that overtook others
        pipe(EXPERIMENT, "shuffled", 1, 1.25);

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        QuantileSummary delta0 = latest.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, 0));
        QuantileSummary delta1 = latest.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, 1));
        assertEquals(2, delta0.getCount());
        assertEquals(-1.0, delta0.getMin(), "in order: 2.0 − 3.0");
        assertEquals(-0.75, delta0.getMax(), "shuffled: 1.25 − 2.0");
        assertEquals(2, delta1.getCount());
        assertEquals(-0.5, delta1.getMax(), "in order: 1.5 − 2.0");
        assertEquals(-0.75, delta1.getMin(), "shuffled: 0.5 − 1.25");
        assertEquals(2, latest.get(Topics.quantileKey(EXPERIMENT, "loss", 2)).getCount(), "the repeat of t = 2 is not counted");
        assertEquals(1.0, counter(MeterNames.DUPLICATE_ITERATION_RECORDS));
    }

    @Test
    void aRecordArrivingAfterItsRunsRunFinishedIsCountedAsLateAndLeftOut() {
        startDriver(LOSS_ONLY);
        pipe(EXPERIMENT, "run-a", 0, 1.0);
        pipe(EXPERIMENT, "run-b", 0, 3.0);
        finish("run-a", RunStatus.CANCELLED, 1, null);
        pipe(EXPERIMENT, "run-a", 1, 0.9);
        pipe(EXPERIMENT, "run-b", 1, 2.0);

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertEquals(1, latest.get(Topics.quantileKey(EXPERIMENT, "loss", 1)).getCount(), "only run-b's");
        assertEquals(2.0, latest.get(Topics.quantileKey(EXPERIMENT, "loss", 1)).getP50());
        assertEquals(1.0, counter(MeterNames.LATE_RECORDS));
        assertEquals(4.0, counter(MeterNames.ITERATION_RECORDS), "every record read is counted as read");
    }

    @Test
    void frontierFollowsTheNewestRunWhenRunsArriveOneAfterAnother() {
        startDriver(LOSS_ONLY);
        feedRun("run-a", 0, 9);
        assertFrontier(9, 1);

        feedRun("run-b", 0, 0);
        assertFrontier(0, 2); // run-b is active and has reached 0: both runs are there
        feedRun("run-b", 1, 5);
        assertFrontier(5, 2);
        feedRun("run-b", 6, 9);
        assertFrontier(9, 2);

        feedRun("run-c", 0, 3);
        assertFrontier(3, 3);
    }

    @Test
    void frontierIsTheLatestIterationAllRunsReachedWhenRunsAreInLockstep() {
        startDriver(LOSS_ONLY);
        List<String> runIds = List.of("run-a", "run-b", "run-c", "run-d");
        for (int t = 0; t < 6; t++) {
            for (String run : runIds) {
                pipe(EXPERIMENT, run, t, 1.0 / (t + 1));
            }
            assertFrontier(t, 4);
        }
        // Half the runs one step ahead: the band stays where all four are.
        pipe(EXPERIMENT, "run-a", 6, 0.1);
        pipe(EXPERIMENT, "run-b", 6, 0.1);
        assertFrontier(5, 4);
        pipe(EXPERIMENT, "run-c", 6, 0.1);
        pipe(EXPERIMENT, "run-d", 6, 0.1);
        assertFrontier(6, 4);
    }

    @Test
    void aDivergedRunDoesNotFreezeTheFrontierOfTheOthers() {
        startDriver(LOSS_ONLY);
        for (int t = 0; t <= 2; t++) {
            for (String run : List.of("run-a", "run-b", "run-c")) {
                pipe(EXPERIMENT, run, t, run.equals("run-c") && t == 2 ? Double.NaN : 1.0 / (t + 1));
            }
        }
        assertFrontier(2, 3);
        finish("run-c", RunStatus.DIVERGED, 3, Double.NaN);
        for (int t = 3; t <= 5; t++) {
            pipe(EXPERIMENT, "run-a", t, 0.1);
            assertFrontier(t - 1, 3 - (t - 1 > 2 ? 1 : 0)); // run-b is not there yet
            pipe(EXPERIMENT, "run-b", t, 0.2);
            assertFrontier(t, 2);
        }
        ExperimentStatus status = experiments.current(EXPERIMENT).orElseThrow();
        assertEquals(new ExperimentStatus(EXPERIMENT, 5, 2, 0, 1, 0, 0, 0), status);
        assertEquals(1.0, registry.get(MeterNames.EXPERIMENT_RUNS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT,
                MeterNames.TAG_STATE, "diverged").gauge().value());
        assertEquals(5.0, registry.get(MeterNames.EXPERIMENT_FRONTIER_ITERATION).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT)
                .gauge().value());

        finish("run-a", RunStatus.COMPLETED, 6, 0.05);
        pipe(EXPERIMENT, "run-b", 6, 0.15); // the last one still running leads now, alone at 6
        assertFrontier(6, 1);
        assertEquals(new ExperimentStatus(EXPERIMENT, 6, 1, 1, 1, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void aRunSilentForTheStallTimeoutStopsHoldingTheFrontierUntilItSendsAgain() {
        startDriver(LOSS_ONLY.withRunStallTimeout(Duration.ofSeconds(60)));
        for (int t = 0; t <= 2; t++) {
            for (String run : List.of("run-a", "run-b", "run-c")) {
                pipe(EXPERIMENT, run, t, 1.0 / (t + 1));
            }
        }
        assertFrontier(2, 3);
        driver.advanceWallClockTime(Duration.ofSeconds(40));
        for (int t = 3; t <= 5; t++) {                        // run-c's trainer has died: nothing more from it
            pipe(EXPERIMENT, "run-a", t, 0.1);
            pipe(EXPERIMENT, "run-b", t, 0.2);
        }
        assertFrontier(2, 3);                                 // 40 s of silence: still active, still holding it
        driver.advanceWallClockTime(Duration.ofSeconds(25));  // 65 s since run-c's last record, 25 s since the others'
        assertFrontier(5, 2);
        assertEquals(new ExperimentStatus(EXPERIMENT, 5, 2, 0, 0, 0, 0, 1), experiments.current(EXPERIMENT).orElseThrow());
        assertEquals(1.0, registry.get(MeterNames.EXPERIMENT_RUNS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT,
                MeterNames.TAG_STATE, "stalled").gauge().value());

        pipe(EXPERIMENT, "run-c", 3, 0.3);                    // back (say, resumed from a checkpoint): active again
        assertFrontier(3, 3);
        assertEquals(new ExperimentStatus(EXPERIMENT, 3, 3, 0, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());

        finish("run-c", RunStatus.COMPLETED, 4, 0.25);
        assertFrontier(5, 2);
        assertEquals(new ExperimentStatus(EXPERIMENT, 5, 2, 1, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void aStalledRunThatFinishesCountsAsFinishedAndWithoutATimeoutNoRunStalls() {
        startDriver(LOSS_ONLY.withRunStallTimeout(Duration.ofSeconds(60)));
        feedRun("run-a", 0, 2);
        feedRun("run-b", 0, 1);
        driver.advanceWallClockTime(Duration.ofSeconds(61));
        assertEquals(new ExperimentStatus(EXPERIMENT, 2, 0, 0, 0, 0, 0, 2), experiments.current(EXPERIMENT).orElseThrow());
        finish("run-b", RunStatus.CANCELLED, 2, null);
        assertEquals(new ExperimentStatus(EXPERIMENT, 2, 0, 0, 0, 1, 0, 1), experiments.current(EXPERIMENT).orElseThrow());
        closeDriver();

        startDriver(LOSS_ONLY.withRunStallTimeout(Duration.ZERO));
        feedRun("run-a", 0, 2);
        feedRun("run-b", 0, 1);
        driver.advanceWallClockTime(Duration.ofHours(2));
        assertFrontier(1, 2);
        assertEquals(new ExperimentStatus(EXPERIMENT, 1, 2, 0, 0, 0, 0, 0), experiments.current(EXPERIMENT).orElseThrow());
    }

    @Test
    void theLastStepsDeltaComesFromTheLossAfterTheLastUpdateInRunFinished() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)));
        pipe(EXPERIMENT, "run-a", 0, 2.0);
        pipe(EXPERIMENT, "run-a", 1, 1.5);
        finish("run-a", RunStatus.COMPLETED, 2, 1.25);
        pipe(EXPERIMENT, "run-b", 0, 2.0);
        pipe(EXPERIMENT, "run-b", 1, 1.0);
        finish("run-b", RunStatus.DIVERGED, 2, 1.0); // a diverged run was not updated after its last iteration

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        QuantileSummary last = latest.get(Topics.quantileKey(EXPERIMENT, TrackedMetric.LOSS_DELTA, 1));
        assertEquals(1, last.getCount(), "only the completed run has f(θ_2)");
        assertEquals(-0.25, last.getP50());
    }

    @Test
    void valuesAreBatchedUntilTheBatchIsFullOrTheEmitIntervalHasPassed() {
        startDriver(QuantilesSettings.defaults().withMetrics(List.of("loss")).withBatching(3, Duration.ofMillis(200)));
        pipe(EXPERIMENT, "run-0", 0, 1.0);
        pipe(EXPERIMENT, "run-1", 0, 2.0);
        assertTrue(quantiles.isEmpty(), "two of three records: the batch waits");
        pipe(EXPERIMENT, "run-2", 0, 3.0);
        assertEquals(3, quantiles.readValue().getCount(), "a full batch goes on at once");

        pipe(EXPERIMENT, "run-3", 0, 4.0);
        assertTrue(quantiles.isEmpty());
        driver.advanceWallClockTime(Duration.ofMillis(200));
        QuantileSummary afterInterval = quantiles.readValue();
        assertEquals(4, afterInterval.getCount(), "the emit interval sends what is there");
        assertEquals(2.5, afterInterval.getMean());
        assertTrue(quantiles.isEmpty());
    }

    @Test
    void aBatchStoredInSeveralChunksGoesOnWhole() {
        startDriver(QuantilesSettings.defaults().withMetrics(List.of("loss")).withBatching(40, Duration.ofMillis(200)));
        double[] losses = new double[35]; // 35 records: chunks of 16, 16 and 3
        for (int run = 0; run < losses.length; run++) {
            losses[run] = 1.0 + run;
            pipe(EXPERIMENT, "run-" + run, 0, losses[run]);
        }
        assertTrue(quantiles.isEmpty());
        driver.advanceWallClockTime(Duration.ofMillis(200));
        QuantileSummary summary = quantiles.readValue();
        assertEquals(35, summary.getCount());
        assertEquals(18.0, summary.getMean(), "1 .. 35");
        assertEquals(18.0, summary.getP50());
        assertTrue(quantiles.isEmpty(), "one update for the whole batch");
        for (int run = 35; run < 75; run++) {
            pipe(EXPERIMENT, "run-" + run, 0, 1.0 + run);
        }
        assertEquals(75, quantiles.readValue().getCount(), "40 more records fill a batch, which goes on at once");
    }

    @Test
    void aWatchedRunHasRollingQuantilesOverItsLastWIterationsAndAnUnwatchedRunHasNone() {
        startDriver(LOSS_ONLY.withWatching(1, 4));
        start("run-watched", 0);
        start("run-other", 1);
        for (int t = 0; t < 10; t++) {
            pipe(EXPERIMENT, "run-watched", t, t + 1.0); // 1 .. 10: the last 4 are 7, 8, 9, 10
            pipe(EXPERIMENT, "run-other", t, 100.0);
        }
        Tags watched = Tags.of(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_RUN, "run-watched", MeterNames.TAG_METRIC, "loss");
        assertEquals(7.0, rolling(watched, "0.05"), "⌈0.05·4⌉ = 1st smallest");
        assertEquals(8.0, rolling(watched, "0.5"), "⌈0.5·4⌉ = 2nd smallest");
        assertEquals(9.0, rolling(watched, "0.75"), "⌈0.75·4⌉ = 3rd smallest");
        assertEquals(10.0, rolling(watched, "0.95"));
        assertEquals(1.0, rolling(watched.and(MeterNames.TAG_METRIC, TrackedMetric.LOSS_DELTA), "0.5"),
                "Δ_t = 1 at every step; lossDelta is not among the cross-run metrics here, the watched run has it anyway");
        assertFalse(registry.getMeters().stream().anyMatch(meter -> "run-other".equals(meter.getId().getTag(MeterNames.TAG_RUN))),
                "no series for an unwatched run");

        finish("run-watched", RunStatus.COMPLETED, 10, 10.5);
        assertFalse(registry.getMeters().stream().anyMatch(meter -> "run-watched".equals(meter.getId().getTag(MeterNames.TAG_RUN))),
                "a finished run's series are removed");
    }

    @Test
    void spectrumSnapshotsGiveTheTopEigenvaluesAndPrincipalCosinesAcrossRuns() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", "hessianTopEigenvalue", "principalAngleCosineFirst",
                "principalAngleCosineMean")));
        TestInputTopic<String, SpectrumSnapshot> spectra = driver.createInputTopic(Topics.SPECTRA, new StringSerializer(),
                TelemetrySerdes.spectra());
        double[][] hessianTop = {{12.0, 3.0}, {10.0, 2.5}, {14.0, 1.0}};
        double[][] cosines = {{0.9, 0.5, 0.1}, {0.8, 0.4, 0.3}, {0.95, 0.2, 0.2}};
        for (int run = 0; run < 3; run++) {
            SpectrumSnapshot snapshot = snapshot("run-" + run, 10, hessianTop[run], cosines[run]);
            spectra.pipeInput("run-" + run, snapshot);
        }
        spectra.pipeInput("run-0", snapshot("run-0", 10, new double[] {99.0, 1.0}, cosines[0])); // a repeat: counted once

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        QuantileSummary lambda = latest.get(Topics.quantileKey(EXPERIMENT, "hessianTopEigenvalue", 10));
        assertEquals(3, lambda.getCount());
        assertEquals(10.0, lambda.getMin());
        assertEquals(12.0, lambda.getP50());
        assertEquals(14.0, lambda.getMax());
        QuantileSummary first = latest.get(Topics.quantileKey(EXPERIMENT, "principalAngleCosineFirst", 10));
        assertEquals(0.8, first.getMin());
        assertEquals(0.95, first.getMax());
        QuantileSummary mean = latest.get(Topics.quantileKey(EXPERIMENT, "principalAngleCosineMean", 10));
        assertEquals((0.9 + 0.5 + 0.1) / 3, mean.getMax(), 1e-15, "run 0 has the largest mean cosine");
        assertEquals(1.0, counter(MeterNames.DUPLICATE_SPECTRUM_RECORDS));
    }

    @Test
    void theSupermartingaleShareIsTheShareOfRunsWhoseStepKeepsTheCondition() {
        startDriver(AT_ONCE);
        // −η‖μ‖² + (η²/2) L Tr M with η = 0.1, L = 10, Tr M = 4: −0.1‖μ‖² + 0.2 ≤ 0 ⇔ ‖μ‖² ≥ 2.
        double[] gradNormSq = {2.5, 3.0, 1.0};
        for (int run = 0; run < 3; run++) {
            IterationMetrics record = iteration(EXPERIMENT, "run-" + run, 0, 2.3);
            record.setGradNormSq(gradNormSq[run]);
            record.setTraceM(4.0);
            record.setHessianSpectralNorm(10.0);
            iterations.pipeInput("run-" + run, record);
        }
        assertEquals(2.0 / 3, registry.get(MeterNames.SUPERMARTINGALE_SHARE).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT)
                .gauge().value(), 1e-15);
        QuantileSummary traceM = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "traceM", 0));
        assertEquals(3, traceM.getCount(), "the moments have quantiles of their own");
    }

    @Test
    void gaugesShowTheSummaryOfTheFrontierIteration() {
        startDriver(LOSS_ONLY);
        Random random = new Random(3);
        int runCount = 25;
        for (int t = 0; t < 4; t++) {
            for (int run = 0; run < runCount; run++) {
                pipe(EXPERIMENT, "run-" + run, t, random.nextDouble() * 3);
            }
        }
        for (int run = 0; run < 10; run++) { // 10 runs at iteration 4: the frontier stays at 3
            pipe(EXPERIMENT, "run-" + run, 4, random.nextDouble());
        }
        QuantileSummary atFrontier = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 3));

        Tags tags = Tags.of(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_METRIC, "loss");
        assertEquals(3.0, gauge(MeterNames.CROSS_RUN_ITERATION, tags));
        assertEquals(runCount, gauge(MeterNames.CROSS_RUN_RUNS, tags));
        assertEquals(atFrontier.getMean(), gauge(MeterNames.CROSS_RUN_MEAN, tags));
        assertEquals(atFrontier.getMin(), gauge(MeterNames.CROSS_RUN_MIN, tags));
        assertEquals(atFrontier.getMax(), gauge(MeterNames.CROSS_RUN_MAX, tags));
        assertEquals(0.0, gauge(MeterNames.CROSS_RUN_NON_FINITE, tags));
        assertEquals(atFrontier.getNormalizedRankError(), gauge(MeterNames.CROSS_RUN_RANK_ERROR, tags));
        double[] expected = quantilesOf(atFrontier);
        for (int i = 0; i < expected.length; i++) {
            String level = Quantiles.label(Quantiles.LEVELS.get(i));
            assertEquals(expected[i], gauge(MeterNames.CROSS_RUN_QUANTILE, tags.and(MeterNames.TAG_QUANTILE, level)), level);
        }

        // The same through Prometheus' eyes: the exposition names and labels the dashboards use.
        String scrape = registry.scrape();
        assertTrue(scrape.contains("sgdscope_cross_run_quantile{experiment=\"gauss10\",metric=\"loss\",quantile=\"0.5\"} "
                + atFrontier.getP50()), scrape);
        assertTrue(scrape.contains("sgdscope_cross_run_iteration{experiment=\"gauss10\",metric=\"loss\"} 3.0"), scrape);
        assertTrue(scrape.contains("sgdscope_iteration_records_total{experiment=\"gauss10\"} 110.0"), scrape);
        assertTrue(scrape.contains("sgdscope_experiment_frontier_iteration{experiment=\"gauss10\"} 3.0"), scrape);
        assertTrue(scrape.contains("sgdscope_experiment_runs{experiment=\"gauss10\",state=\"active\"} 25.0"), scrape);
        assertEquals(atFrontier.getP50(), bands.current(EXPERIMENT, "loss").orElseThrow().median());
    }

    @Test
    void nonFiniteLossIsCountedButKeptOutOfTheSketch() {
        startDriver(LOSS_ONLY);
        double[] losses = {1.0, Double.NaN, 2.0, Double.POSITIVE_INFINITY, 3.0};
        for (int run = 0; run < losses.length; run++) {
            pipe(EXPERIMENT, "run-" + run, 0, losses[run]);
        }

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(3, summary.getCount());
        assertEquals(2, summary.getNonFinite());
        assertEquals(2.0, summary.getMean());
        assertEquals(1.0, summary.getMin());
        assertEquals(3.0, summary.getMax());
        assertEquals(2.0, summary.getP50());
        assertEquals(3.0, summary.getP95());
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(2, band.nonFinite());
        assertEquals(5, band.runs());
        assertEquals(2.0, registry.get(MeterNames.NON_FINITE_VALUES).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT).counter().count());
    }

    @Test
    void aCorruptRecordIsSkippedCountedAndDeadLetteredAndTheNextRecordIsProcessed() {
        startDriver(LOSS_ONLY);
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), new ByteArraySerializer());
        byte[] garbage = "not avro at all".getBytes(StandardCharsets.US_ASCII);
        raw.pipeInput("run-x", garbage);
        pipe(EXPERIMENT, "run-y", 0, 0.5);

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(1, summary.getCount());
        assertEquals(0.5, summary.getP50());
        assertEquals(1.0, registry.get(MeterNames.UNREADABLE_RECORDS).tags(MeterNames.TAG_TOPIC, Topics.ITERATIONS).counter().count());

        TestOutputTopic<String, byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new StringDeserializer(), new ByteArrayDeserializer());
        TestRecord<String, byte[]> copy = deadLetters.readRecord();
        assertEquals("run-x", copy.key());
        assertTrue(Arrays.equals(garbage, copy.value()), "the dead letter carries the original bytes");
        assertEquals(Topics.ITERATIONS, header(copy, "__streams.errors.topic"));
        assertEquals("driver-test", header(copy, "__streams.errors.application.id"));
        assertTrue(header(copy, "__streams.errors.message").contains("not an Avro single-object encoded record"),
                header(copy, "__streams.errors.message"));
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void aCorruptRunRecordIsDeadLetteredToo() {
        startDriver(LOSS_ONLY);
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(Topics.RUNS, new StringSerializer(), new ByteArraySerializer());
        raw.pipeInput("run-x/finished", new byte[] {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        pipe(EXPERIMENT, "run-y", 0, 0.5);

        assertEquals(1, quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0)).getCount());
        assertEquals(1.0, registry.get(MeterNames.UNREADABLE_RECORDS).tags(MeterNames.TAG_TOPIC, Topics.RUNS).counter().count());
        TestOutputTopic<String, byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new StringDeserializer(), new ByteArrayDeserializer());
        assertTrue(header(deadLetters.readRecord(), "__streams.errors.message").contains("unknown schema fingerprint"));
    }

    @Test
    void anIterationARunSendsTwiceIsCountedOnce() {
        startDriver(LOSS_ONLY);
        pipe(EXPERIMENT, "run-a", 0, 1.0);
        pipe(EXPERIMENT, "run-b", 0, 3.0);
        pipe(EXPERIMENT, "run-a", 0, 1.0); // a producer retry, or a restarted trainer

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(2, summary.getCount());
        assertEquals(2.0, summary.getMean());
        assertEquals(1.0, counter(MeterNames.DUPLICATE_ITERATION_RECORDS));
        assertEquals(3.0, counter(MeterNames.ITERATION_RECORDS));
    }

    @Test
    void experimentsHaveBandsOfTheirOwn() {
        startDriver(LOSS_ONLY);
        pipe("easy", "easy-1", 0, 0.1);
        pipe("hard", "hard-1", 0, 2.0);
        pipe("hard", "hard-1", 1, 1.9);

        assertEquals(0, bands.current("easy", "loss").orElseThrow().iteration());
        assertEquals(0.1, bands.current("easy", "loss").orElseThrow().median());
        assertEquals(1, bands.current("hard", "loss").orElseThrow().iteration());
        assertEquals(1.9, bands.current("hard", "loss").orElseThrow().median());
        assertEquals(List.of("easy", "hard"), bands.all().stream().map(CrossRunBand::experimentId).toList());
    }

    private void pipe(String experiment, String run, int t, double loss) {
        iterations.pipeInput(run, iteration(experiment, run, t, loss));
    }

    private void start(String run, int index) {
        runs.pipeInput(Topics.runStartedKey(run), Telemetry.started(EXPERIMENT, run, index, "sgd", 1150));
    }

    private void finish(String run, RunStatus status, int iterationCount, Double finalLoss) {
        runs.pipeInput(Topics.runFinishedKey(run), Telemetry.finished(EXPERIMENT, run, status, iterationCount, finalLoss));
    }

    private SpectrumSnapshot snapshot(String run, int t, double[] hessian, double[] cosines) {
        List<Double> hessianList = Arrays.stream(hessian).boxed().toList();
        List<Double> cosineList = Arrays.stream(cosines).boxed().toList();
        return SpectrumSnapshot.newBuilder()
                .setRunId(run).setExperimentId(EXPERIMENT).setIteration(t).setTimestampMillis(0L).setPrecision("float64")
                .setTopK(hessian.length)
                .setHessianEigenvalues(hessianList).setHessianResiduals(List.of(0.0, 0.0))
                .setSecondMomentEigenvalues(List.of(5.0, 1.0)).setSecondMomentResiduals(List.of(0.0, 0.0))
                .setPredictionHessianEigenvalues(List.of(1.0, 0.5)).setPredictionHessianResiduals(List.of(0.0, 0.0))
                .setPrincipalAngleCosines(cosineList)
                .setHessianLayerLoadings(List.of())
                .setDavisKahanBounds(List.of(0.1, 0.2, 0.3))
                .setProbeSeconds(0.01)
                .build();
    }

    private void feedRun(String run, int from, int to) {
        for (int t = from; t <= to; t++) {
            pipe(EXPERIMENT, run, t, 1.0 / (t + 1));
        }
    }

    private void assertFrontier(int iteration, long runCount) {
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(iteration, band.iteration(), "frontier iteration");
        assertEquals(runCount, band.runs(), "runs at the frontier");
    }

    private double counter(String name) {
        return registry.get(name).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT).counter().count();
    }

    private double rolling(Tags run, String level) {
        return registry.get(MeterNames.RUN_ROLLING_QUANTILE).tags(run.and(MeterNames.TAG_QUANTILE, level)).gauge().value();
    }

    private double gauge(String name, Tags tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    private static double[] quantilesOf(QuantileSummary summary) {
        return new double[] {summary.getP05(), summary.getP10(), summary.getP25(), summary.getP50(),
                summary.getP75(), summary.getP90(), summary.getP95()};
    }

    private static double exactMean(double[] values) {
        BigDecimal sum = BigDecimal.ZERO;
        for (double value : values) {
            sum = sum.add(new BigDecimal(value));
        }
        return sum.divide(BigDecimal.valueOf(values.length), MathContext.DECIMAL128).doubleValue();
    }

    private static double exactSampleVariance(double[] values) {
        BigDecimal sum = BigDecimal.ZERO;
        for (double value : values) {
            sum = sum.add(new BigDecimal(value));
        }
        BigDecimal mean = sum.divide(BigDecimal.valueOf(values.length), MathContext.DECIMAL128);
        BigDecimal squares = BigDecimal.ZERO;
        for (double value : values) {
            BigDecimal deviation = new BigDecimal(value).subtract(mean);
            squares = squares.add(deviation.multiply(deviation));
        }
        return squares.divide(BigDecimal.valueOf(values.length - 1), MathContext.DECIMAL128).doubleValue();
    }

    /**
     * How far the target rank is from the ranks the estimate actually has among the sorted values:
     * an estimate v spans normalised ranks [#(x < v)/n, #(x ≤ v)/n].
     */
    private static double rankError(double[] sorted, double estimate, double target) {
        double below = countBelow(sorted, estimate, false) / (double) sorted.length;
        double upTo = countBelow(sorted, estimate, true) / (double) sorted.length;
        return Math.max(0, Math.max(below - target, target - upTo));
    }

    private static int countBelow(double[] sorted, double value, boolean inclusive) {
        int count = 0;
        for (double x : sorted) {
            if (x < value || (inclusive && x == value)) {
                count++;
            }
        }
        return count;
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
