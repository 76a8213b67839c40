package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.TopologyOnDriver;
import io.sgdscope.streams.metrics.MeterNames;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantiles topology fed IterationFrames (blocks of runs, as an ensemble trainer publishes them) on the
 * test driver. References: the same values fed as per-run records, and sums worked out here in BigDecimal.
 */
class QuantilesFramesTest {

    private static final QuantilesSettings AT_ONCE = QuantilesSettings.defaults().withBatching(1, Duration.ofMillis(100));

    @TempDir
    Path stateDir;

    private TopologyOnDriver app;
    private PrometheusMeterRegistry registry;
    private QuantileBands bands;
    private ExperimentStatuses experiments;
    private TopologyTestDriver driver;
    private TestInputTopic<String, Frame> frames;
    private TestInputTopic<String, IterationMetrics> records;
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
        frames = app.frames;
        records = app.iterations;
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
    void framesOfABlockGiveTheSameSummariesOfEveryMetricAsTheSameValuesSentPerRun() {
        startDriver(AT_ONCE);
        int runCount = 7;
        int iterationCount = 6;
        Random random = new Random(11);
        double[][] losses = new double[runCount][iterationCount];
        double[] finalLosses = new double[runCount];
        List<String> framedRuns = new ArrayList<>();
        List<String> perRunRuns = new ArrayList<>();
        for (int run = 0; run < runCount; run++) {
            framedRuns.add("framed-" + run);
            perRunRuns.add("alone-" + run);
            start("framed", "framed-" + run, run, "framed-0");
            start("alone", "alone-" + run, run, null);
            finalLosses[run] = random.nextDouble();
        }
        for (int t = 0; t < iterationCount; t++) {
            List<IterationMetrics> framed = new ArrayList<>();
            for (int run = 0; run < runCount; run++) {
                losses[run][t] = run == 5 && t == 4 ? Double.NaN : Math.exp(random.nextGaussian() - 0.2 * t);
                IterationMetrics values = record("framed", "framed-" + run, t, losses[run][t], random);
                framed.add(values);
                IterationMetrics alone = IterationMetrics.newBuilder(values).setRunId("alone-" + run).setExperimentId("alone").build();
                records.pipeInput(alone.getRunId(), alone);
            }
            frames.pipeInput("framed-0", Frame.of(framed));
        }
        for (int run = 0; run < runCount; run++) {
            finish("framed", "framed-" + run, RunStatus.COMPLETED, iterationCount, finalLosses[run], "framed-0");
            finish("alone", "alone-" + run, RunStatus.COMPLETED, iterationCount, finalLosses[run], null);
        }

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        int compared = 0;
        for (String metric : TrackedMetric.allNames()) {
            for (int t = 0; t < iterationCount; t++) {
                QuantileSummary alone = latest.get(Topics.quantileKey("alone", metric, t));
                QuantileSummary framed = latest.get(Topics.quantileKey("framed", metric, t));
                if (alone == null) {
                    assertNull(framed, metric + " at " + t + ": no values per run, none in frames");
                    continue;
                }
                String where = metric + " at " + t;
                assertEquals(alone.getCount(), framed.getCount(), where);
                assertEquals(alone.getNonFinite(), framed.getNonFinite(), where);
                assertEquals(alone.getMin(), framed.getMin(), where);
                assertEquals(alone.getMax(), framed.getMax(), where);
                assertEquals(alone.getP05(), framed.getP05(), where);
                assertEquals(alone.getP50(), framed.getP50(), where);
                assertEquals(alone.getP95(), framed.getP95(), where);
                assertEquals(alone.getMean(), framed.getMean(), 1e-15 * Math.abs(alone.getMean()), where);
                if (alone.getVariance() != null) {
                    assertEquals(alone.getVariance(), framed.getVariance(), 1e-14 * alone.getVariance(), where);
                }
                compared++;
            }
        }
        assertTrue(compared >= 8 * iterationCount, "compared " + compared + " summaries");
        // Against a reference of our own: Δ_t (Eq. 22) at the last step comes from f(θ_T) in RunFinished.
        double[] lastDeltas = new double[runCount];
        for (int run = 0; run < runCount; run++) {
            lastDeltas[run] = finalLosses[run] - losses[run][iterationCount - 1];
        }
        QuantileSummary lastDelta = latest.get(Topics.quantileKey("framed", TrackedMetric.LOSS_DELTA, iterationCount - 1));
        assertEquals(runCount, lastDelta.getCount());
        assertEquals(exactMean(lastDeltas), lastDelta.getMean(), 1e-15);
        QuantileSummary lossAt4 = latest.get(Topics.quantileKey("framed", "loss", 4));
        assertEquals(runCount - 1, lossAt4.getCount(), "run 5's NaN is counted apart");
        assertEquals(1, lossAt4.getNonFinite());
        assertEquals(runCount * iterationCount, counter("framed", MeterNames.ITERATION_RECORDS), "a frame of n runs counts n records");
        assertEquals(new ExperimentStatus("framed", iterationCount - 1, 0, runCount, 0, 0, 0, 0),
                experiments.current("framed").orElseThrow());
    }

    @Test
    void snapshotsOfRunsPublishedInFramesMeetTheirRunsUnderTheFrameKey() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", "hessianTopEigenvalue")));
        TestInputTopic<String, SpectrumSnapshot> spectra = app.input(Topics.SPECTRA, TelemetrySerdes.spectra());
        Random random = new Random(5);
        double[] hessianTop = {12.0, 10.0, 14.0};
        for (int run = 0; run < 3; run++) {
            start("framed", "framed-" + run, run, "framed-0");
        }
        for (int t = 0; t < 3; t++) {
            List<IterationMetrics> framed = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                framed.add(record("framed", "framed-" + run, t, 1.0 / (t + 1 + run), random));
            }
            frames.pipeInput("framed-0", Frame.of(framed));
        }
        for (int run = 0; run < 3; run++) {
            spectra.pipeInput("framed-" + run, snapshot("framed-" + run, 2, hessianTop[run], "framed-0"));
        }
        spectra.pipeInput("framed-1", snapshot("framed-1", 2, 99.0, "framed-0")); // a repeat: counted once
        finish("framed", "framed-2", RunStatus.COMPLETED, 3, 0.2, "framed-0");
        // After its RunFinished a snapshot of run 2 is late; keyed by its run id it would have met no finished run.
        spectra.pipeInput("framed-2", snapshot("framed-2", 1, 50.0, "framed-0"));

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        QuantileSummary lambda = latest.get(Topics.quantileKey("framed", "hessianTopEigenvalue", 2));
        assertEquals(3, lambda.getCount());
        assertEquals(10.0, lambda.getMin());
        assertEquals(12.0, lambda.getP50());
        assertEquals(14.0, lambda.getMax());
        assertNull(latest.get(Topics.quantileKey("framed", "hessianTopEigenvalue", 1)), "the late snapshot is not counted");
        assertEquals(1.0, counter("framed", MeterNames.DUPLICATE_SPECTRUM_RECORDS));
        assertEquals(1.0, counter("framed", MeterNames.LATE_RECORDS));
    }

    @Test
    void aRepeatedFrameCountsEachRunsIterationOnceAndARunMissingFromALaterFrameIsLeftOut() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)));
        Frame first = frame("exp", 0, new String[] {"a", "b", "c"}, new double[] {3.0, 2.0, 1.0});
        frames.pipeInput("a", first);
        frames.pipeInput("a", first); // a producer retry
        // b diverged and is no longer in the block's frames; the others go on in another column order.
        frames.pipeInput("a", frame("exp", 1, new String[] {"c", "a"}, new double[] {0.5, 2.5}));

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertEquals(3, latest.get(Topics.quantileKey("exp", "loss", 0)).getCount());
        assertEquals(2.0, latest.get(Topics.quantileKey("exp", "loss", 0)).getMean());
        QuantileSummary delta = latest.get(Topics.quantileKey("exp", TrackedMetric.LOSS_DELTA, 0));
        assertEquals(2, delta.getCount());
        assertEquals(-0.5, delta.getMin(), "c: 0.5 − 1.0 (its own column, not a's)");
        assertEquals(-0.5, delta.getMax(), "a: 2.5 − 3.0");
        assertEquals(3.0, counter("exp", MeterNames.DUPLICATE_ITERATION_RECORDS));
        assertEquals(8.0, counter("exp", MeterNames.ITERATION_RECORDS));
    }

    @Test
    void aRunFinishedThatOvertakesItsRunsLastFramesWaitsForThemAndNothingIsLate() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)));
        String[] block = {"a", "b", "c"};
        double[][] losses = {{2.0, 1.5, 1.2, 1.0, 0.9}, {2.2, 1.9, 1.7, 1.6, 1.5}, {2.4, 2.0, 1.0, 0.5, 0.25}};
        double[] finalLosses = {0.85, 1.45, 0.125};
        for (int t = 0; t < 3; t++) {
            frames.pipeInput("a", frame("exp", t, block, column(losses, t)));
        }
        // A leader move: the finishes (through the repartition topic) come before the frames of t = 3, 4.
        for (int run = 0; run < 3; run++) {
            finish("exp", block[run], RunStatus.COMPLETED, 5, finalLosses[run], "a");
        }
        assertEquals(new ExperimentStatus("exp", 2, 3, 0, 0, 0, 0, 0), experiments.current("exp").orElseThrow(),
                "the runs are still active: their finishes wait");
        frames.pipeInput("a", frame("exp", 3, block, column(losses, 3)));
        assertEquals(3, experiments.current("exp").orElseThrow().active());
        frames.pipeInput("a", frame("exp", 4, block, column(losses, 4)));

        assertEquals(0.0, counter("exp", MeterNames.LATE_RECORDS));
        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        for (int t = 3; t <= 4; t++) {
            QuantileSummary loss = latest.get(Topics.quantileKey("exp", "loss", t));
            assertEquals(3, loss.getCount(), "every run's loss at " + t);
            assertEquals(exactMean(column(losses, t)), loss.getMean(), 1e-15);
        }
        QuantileSummary lastDelta = latest.get(Topics.quantileKey("exp", TrackedMetric.LOSS_DELTA, 4));
        assertEquals(3, lastDelta.getCount(), "f(θ_5) from each RunFinished closes the step 4 → 5");
        assertEquals(exactMean(new double[] {0.85 - 0.9, 1.45 - 1.5, 0.125 - 0.25}), lastDelta.getMean(), 1e-15);
        assertEquals(new ExperimentStatus("exp", 4, 0, 3, 0, 0, 0, 0), experiments.current("exp").orElseThrow(),
                "finished once their last frames were counted");
    }

    @Test
    void aRunFinishedWaitingForIterationsThatNeverComeTakesEffectAfterTheStallTimeout() {
        startDriver(AT_ONCE.withMetrics(List.of("loss", TrackedMetric.LOSS_DELTA)).withRunStallTimeout(Duration.ofSeconds(60)));
        String[] block = {"a", "b"};
        frames.pipeInput("a", frame("exp", 0, block, new double[] {2.0, 3.0}));
        frames.pipeInput("a", frame("exp", 1, block, new double[] {1.0, 2.0}));
        // t = 2 and 3 were dropped by the trainer: the finishes announce 4 iterations.
        finish("exp", "a", RunStatus.COMPLETED, 4, 0.5, "a");
        finish("exp", "b", RunStatus.CANCELLED, 4, 1.5, "a");
        driver.advanceWallClockTime(Duration.ofSeconds(30));
        assertEquals(new ExperimentStatus("exp", 1, 2, 0, 0, 0, 0, 0), experiments.current("exp").orElseThrow());
        driver.advanceWallClockTime(Duration.ofSeconds(35));
        assertEquals(new ExperimentStatus("exp", 1, 0, 1, 0, 1, 0, 0), experiments.current("exp").orElseThrow(),
                "finished (not stalled) once silent for the timeout");
        frames.pipeInput("a", frame("exp", 2, block, new double[] {0.9, 1.9}));
        assertEquals(2.0, counter("exp", MeterNames.LATE_RECORDS), "after the finish, records are late");
        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertNull(latest.get(Topics.quantileKey("exp", TrackedMetric.LOSS_DELTA, 3)), "no f(θ_3): Δ_3 has no start");
        assertNull(latest.get(Topics.quantileKey("exp", "loss", 2)));
    }

    @Test
    void aWatchedRunInsideABlockHasRollingQuantilesAndItsNeighboursHaveNone() {
        startDriver(AT_ONCE.withMetrics(List.of("loss")).withWatching(1, 4));
        String[] block = {"w", "x"};
        start("exp", "w", 0, "w");
        start("exp", "x", 1, "w");
        for (int t = 0; t < 8; t++) {
            frames.pipeInput("w", frame("exp", t, block, new double[] {t + 1.0, 100.0}));
        }
        double median = registry.get(MeterNames.RUN_ROLLING_QUANTILE).tags(MeterNames.TAG_EXPERIMENT, "exp", MeterNames.TAG_RUN, "w",
                MeterNames.TAG_METRIC, "loss", MeterNames.TAG_QUANTILE, "0.5").gauge().value();
        assertEquals(6.0, median, "the last 4 losses are 5, 6, 7, 8: ⌈0.5·4⌉ = 2nd smallest");
        assertFalse(registry.getMeters().stream().anyMatch(meter -> "x".equals(meter.getId().getTag(MeterNames.TAG_RUN))));
    }

    private static double[] column(double[][] byRun, int t) {
        double[] values = new double[byRun.length];
        for (int run = 0; run < byRun.length; run++) {
            values[run] = byRun[run][t];
        }
        return values;
    }

    /** A frame made through the per-run records' values, as a trainer's block would publish it. */
    private static Frame frame(String experiment, int t, String[] runIds, double[] losses) {
        List<IterationMetrics> rows = new ArrayList<>();
        for (int run = 0; run < runIds.length; run++) {
            rows.add(iteration(experiment, runIds[run], t, losses[run]));
        }
        return Frame.of(rows);
    }

    /** A record with every optional field some of the time: moments every 2nd iteration (not for run 3), no cosine at t = 0. */
    private static IterationMetrics record(String experiment, String run, int t, double loss, Random random) {
        IterationMetrics record = iteration(experiment, run, t, loss);
        record.setSgNorm(1 + random.nextDouble());
        record.setSgCosPrev(t == 0 ? null : random.nextDouble() * 2 - 1);
        record.setTrainAccuracy(random.nextDouble());
        if (t % 2 == 0 && !run.endsWith("-3")) {
            record.setGradNormSq(random.nextDouble());
            record.setTraceM(4 * random.nextDouble());
            record.setTraceSigma(random.nextDouble());
            record.setSigmaFrobenius(random.nextDouble());
            record.setSigmaSpectral(random.nextDouble());
            record.setSigmaHalfMuNorm(random.nextDouble());
            record.setHessianSpectralNorm(10 * random.nextDouble());
        }
        return record;
    }

    private static SpectrumSnapshot snapshot(String run, int t, double hessianTop, String frameKey) {
        return SpectrumSnapshot.newBuilder()
                .setRunId(run).setExperimentId("framed").setIteration(t).setTimestampMillis(0L).setPrecision("float64")
                .setTopK(1)
                .setHessianEigenvalues(List.of(hessianTop)).setHessianResiduals(List.of(0.0))
                .setSecondMomentEigenvalues(List.of(5.0)).setSecondMomentResiduals(List.of(0.0))
                .setPredictionHessianEigenvalues(List.of(1.0)).setPredictionHessianResiduals(List.of(0.0))
                .setPrincipalAngleCosines(List.of(0.9))
                .setHessianLayerLoadings(List.of())
                .setDavisKahanBounds(List.of(0.1))
                .setProbeSeconds(0.01)
                .setFrameKey(frameKey)
                .build();
    }

    private void start(String experiment, String run, int index, String frameKey) {
        RunStarted started = Telemetry.started(experiment, run, index, "sgd", 1150);
        started.setFrameKey(frameKey);
        runs.pipeInput(Topics.runStartedKey(run), started);
    }

    private void finish(String experiment, String run, RunStatus status, int iterationCount, Double finalLoss, String frameKey) {
        RunFinished finished = Telemetry.finished(experiment, run, status, iterationCount, finalLoss);
        finished.setFrameKey(frameKey);
        runs.pipeInput(Topics.runFinishedKey(run), finished);
    }

    private double counter(String experiment, String name) {
        return registry.get(name).tags(MeterNames.TAG_EXPERIMENT, experiment).counter().count();
    }

    private static double exactMean(double[] values) {
        BigDecimal sum = BigDecimal.ZERO;
        for (double value : values) {
            sum = sum.add(new BigDecimal(value));
        }
        return sum.divide(BigDecimal.valueOf(values.length), MathContext.DECIMAL128).doubleValue();
    }
}
