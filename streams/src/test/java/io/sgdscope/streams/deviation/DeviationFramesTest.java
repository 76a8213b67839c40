package io.sgdscope.streams.deviation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.TopologyOnDriver;
import io.sgdscope.streams.metrics.MeterNames;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frames of several runs against the same runs published per run: the deviation app must raise the same
 * alerts, count the same steps and show the same gauges; and a RunFinished processed before its run's last
 * frames (it crosses a repartition topic, frames are read in place) must not lose their checks.
 */
class DeviationFramesTest {

    private static final String EXPERIMENT = "gauss10";
    private static final List<String> RUNS = List.of("run-0", "run-1", "run-2", "run-3", "run-4");
    private static final int LAST = 40;
    /** η = 0.5, m = 4, ‖μ‖² = 2, Tr M = 3, L = 3, ‖Σ^{1/2}μ‖ = 0.8, ‖Σ‖_F = 1.2, ‖Σ‖₂ = 0.6: Eq. 27 gives [−2.125, 0.125]. */
    private static final MomentsAtTheta AT = new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6);
    /** Tiny constants with p = 1: S_T leaves the envelope of Eq. 32–33 after 4 steps of Δ_t − ê_t = 0.001. */
    private static final MomentsAtTheta TINY = new MomentsAtTheta(0.01, 4, 0.01, 0.02, 1.0, 0.01, 0.01, 0.01);
    /** ‖μ‖² = 2, L = 4, Tr M = 2: η ≤ 0.5 keeps the super-martingale condition (§5.4); 0.5000001 breaks it. */
    private static final MomentsAtTheta ON_THE_BOUND = new MomentsAtTheta(0.5, 5, 2.0, 2.0, 4.0, 0.1, 0.1, 0.1);
    private static final MomentsAtTheta JUST_ABOVE = new MomentsAtTheta(0.5000001, 5, 2.0, 2.0, 4.0, 0.1, 0.1, 0.1);

    @TempDir
    Path stateDir;

    private final List<TopologyOnDriver> apps = new ArrayList<>();

    /** One app on the test driver. */
    private final class App {
        final PrometheusMeterRegistry registry;
        final TopologyTestDriver driver;
        final TestInputTopic<String, IterationMetrics> records;
        final TestInputTopic<String, Frame> frames;
        final TestInputTopic<String, SpecificRecord> runs;
        final TestOutputTopic<String, DeviationAlert> alerts;

        App(DeviationSettings settings, String name) {
            TopologyOnDriver app = new TopologyOnDriver(stateDir.resolve(name),
                    meters -> new DeviationTopology(settings, 0, meters, new AlertLog(), TopologyOnDriver.CLOCK).build());
            apps.add(app);
            registry = app.registry;
            driver = app.driver;
            records = app.iterations;
            frames = app.frames;
            runs = app.runs;
            alerts = app.output(Topics.ALERTS, TelemetrySerdes.alerts());
        }

        /** The key the block's frames travel under: its first run's id when it started, fixed for its life. */
        String blockKey;

        void start(String frameKey) {
            blockKey = frameKey;
            for (int i = 0; i < RUNS.size(); i++) {
                String run = RUNS.get(i);
                RunStarted started = Telemetry.started(EXPERIMENT, run, i, i == 4 ? "adaptive-sgd" : "sgd", i == 2 ? 1 : 1150);
                started.setFrameKey(frameKey);
                runs.pipeInput(Topics.runStartedKey(run), started);
            }
        }

        void finish(String run, RunStatus status, int iterations, Double finalLoss, String frameKey) {
            RunFinished finished = Telemetry.finished(EXPERIMENT, run, status, iterations, finalLoss);
            finished.setFrameKey(frameKey);
            runs.pipeInput(Topics.runFinishedKey(run), finished);
        }

        /**
         * The frame of the given runs' records of iteration t, under the block's key. run-1 comes first when it is
         * there: it diverges at t = 25, so from then on the frames' first run is another one, as when a trainer's
         * block loses its first run, while the key stays the block's.
         */
        void frame(List<IterationMetrics> records) {
            List<IterationMetrics> ordered = new ArrayList<>(records);
            ordered.sort(java.util.Comparator.comparing(record -> !record.getRunId().equals("run-1")));
            Frame frame = Frame.of(ordered);
            frames.pipeInput(blockKey != null ? blockKey : frame.key(), frame);
        }

        /** The alerts raised so far, in a fixed order (the order across runs depends on how they arrived). */
        List<String> alerts() {
            return alerts.readValuesToList().stream()
                    .map(alert -> alert.getRunId() + " t=" + alert.getIteration() + " " + alert.getCheck() + " "
                            + alert.getSeverity() + " observed " + alert.getObserved() + " bound " + alert.getBound() + ": "
                            + alert.getMessage())
                    .sorted().toList();
        }

        /** Every counter and gauge of the deviation app, by name and tags. */
        Map<String, Double> meters() {
            Map<String, Double> values = new TreeMap<>();
            for (Meter meter : registry.getMeters()) {
                String name = meter.getId().getName();
                boolean deviation = name.startsWith("sgdscope.deviation") || name.startsWith("sgdscope.theorem1")
                        || name.startsWith("sgdscope.supermartingale") || name.startsWith("sgdscope.run.");
                if (deviation && meter instanceof Counter counter) {
                    values.put(name + meter.getId().getTags(), counter.count());
                } else if (deviation && meter instanceof Gauge gauge) {
                    values.put(name + meter.getId().getTags(), gauge.value());
                }
            }
            return values;
        }

        double counter(String name, String tag, String value) {
            return registry.get(name).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT, tag, value).counter().count();
        }

        boolean hasRunGauges(String run) {
            return registry.getMeters().stream().anyMatch(meter -> run.equals(meter.getId().getTag(MeterNames.TAG_RUN)));
        }
    }

    @AfterEach
    void closeDrivers() {
        apps.forEach(TopologyOnDriver::close);
    }

    @Test
    void aFrameOfSeveralRunsGivesTheAlertsCountsAndGaugesOfTheSameRunsPublishedPerRunInAnyInterleaving() {
        Map<Integer, List<IterationMetrics>> iterations = experiment();

        App perRun = new App(DeviationSettings.defaults(), "per-run");
        perRun.start(null);
        Random random = new Random(7);
        List<List<IterationMetrics>> byRun = RUNS.stream().map(run -> iterations.values().stream().flatMap(List::stream)
                .filter(record -> record.getRunId().equals(run)).toList()).toList();
        int[] next = new int[RUNS.size()];
        for (int left = byRun.stream().mapToInt(List::size).sum(); left > 0; left--) {
            int run;
            do {
                run = random.nextInt(RUNS.size());
            } while (next[run] == byRun.get(run).size());
            IterationMetrics record = byRun.get(run).get(next[run]++);
            perRun.records.pipeInput(record.getRunId(), record);
            if (record.getIteration() == 10) {
                perRun.records.pipeInput(record.getRunId(), record); // sent twice
            }
        }

        App framed = new App(DeviationSettings.defaults(), "frames");
        framed.start("run-0");
        for (int t = 0; t <= LAST; t++) {
            framed.frame(iterations.get(t));
            if (t == 10) {
                framed.frame(iterations.get(t)); // sent twice
            }
        }

        List<String> alerts = perRun.alerts();
        assertEquals(Set.of(DeviationCheck.values()).stream().map(Enum::name).sorted().toList(),
                alerts.stream().map(alert -> alert.split(" ")[2]).distinct().sorted().toList(),
                "the experiment raises every kind of alert: " + alerts);
        assertEquals(alerts, framed.alerts());
        Map<String, Double> meters = perRun.meters();
        assertTrue(perRun.hasRunGauges("run-0") && perRun.hasRunGauges("run-4"), meters.toString());
        assertEquals(4 * (LAST + 1) + 26 + 5.0, perRun.registry.get(MeterNames.DEVIATION_RECORDS).counter().count(),
                "every run's records once, run-1's up to t = 25, and iteration 10 of each run twice");
        assertEquals(5.0, perRun.counter(MeterNames.DEVIATION_SKIPPED_RECORDS, MeterNames.TAG_REASON, "duplicate"));
        assertEquals(meters, framed.meters());

        for (App app : List.of(perRun, framed)) {
            String frameKey = app == framed ? "run-0" : null;
            for (String run : RUNS) {
                if (run.equals("run-1")) {
                    app.finish(run, RunStatus.DIVERGED, 26, Double.NaN, frameKey);
                } else {
                    app.finish(run, RunStatus.COMPLETED, LAST + 1, 50.0, frameKey);
                }
            }
        }
        assertEquals(perRun.alerts(), framed.alerts());
        Map<String, Double> finished = perRun.meters();
        assertFalse(finished.keySet().stream().anyMatch(name -> name.startsWith("sgdscope.run.")),
                "a finished run's gauges are gone: " + finished);
        assertEquals(finished, framed.meters());
        assertEquals(4 * (LAST + 1) + 25.0, framed.counter(MeterNames.THEOREM1_STEPS, MeterNames.TAG_OUTCOME, "inside")
                + framed.counter(MeterNames.THEOREM1_STEPS, MeterNames.TAG_OUTCOME, "exceeded")
                + framed.counter(MeterNames.THEOREM1_STEPS, MeterNames.TAG_OUTCOME, "unchecked"),
                "every step t → t + 1 once: 41 of each completed run (the last closed by RunFinished), 25 of run-1");
    }

    /**
     * Five runs, iterations 0 .. 40: run-0 leaves Theorem 1's thresholds from t = 30 (THEOREM1_INTERVAL); run-1 has
     * the moments every third iteration and a NaN loss at t = 25, its last (DIVERGENCE); run-2 drifts out of
     * Theorem 2's envelope (AZUMA_BERNSTEIN); run-3 has no moments and a loss above 10 × its initial loss at t = 20
     * (DIVERGENCE); run-4, adaptive, breaks the super-martingale condition from t = 1 (SUPERMARTINGALE).
     */
    private static Map<Integer, List<IterationMetrics>> experiment() {
        double upper = 0.125 + 0.05625 * Math.log(2 / 0.01); // Eq. 27's upper end plus the allowance above (Eq. 28)
        Map<Integer, List<IterationMetrics>> iterations = new TreeMap<>();
        double[] loss = {100.0, 3.0, 1.0, 2.0, 2.0};
        for (int t = 0; t <= LAST; t++) {
            List<IterationMetrics> frame = new ArrayList<>();
            frame.add(Telemetry.withMoments(EXPERIMENT, "run-0", t, loss[0], AT));
            loss[0] += t >= 30 ? upper + 0.01 : -1.0;
            if (t <= 25) {
                MomentsAtTheta every3 = t % 3 == 0 ? AT
                        : new MomentsAtTheta(0.5, 4, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
                frame.add(Telemetry.withMoments(EXPERIMENT, "run-1", t, t == 25 ? Double.NaN : loss[1], every3));
                loss[1] -= 0.05;
            }
            frame.add(Telemetry.withMoments(EXPERIMENT, "run-2", t, loss[2], TINY));
            loss[2] += -0.01 * 0.01 + 0.001;
            frame.add(Telemetry.iteration(EXPERIMENT, "run-3", t, t == 20 ? 20.5 : loss[3]));
            loss[3] += t % 2 == 0 ? 0.5 : -0.5;
            frame.add(Telemetry.withMoments(EXPERIMENT, "run-4", t, loss[4], t == 0 ? ON_THE_BOUND : JUST_ABOVE));
            loss[4] -= 0.1;
            iterations.put(t, frame);
        }
        return iterations;
    }

    @Test
    void aRunFinishedProcessedBeforeTheRunsLastFramesWaitsForThemAndTheirStepsAreChecked() {
        Map<Integer, List<IterationMetrics>> iterations = smallBlock();
        App inOrder = new App(DeviationSettings.defaults(), "in-order");
        App overtaken = new App(DeviationSettings.defaults(), "overtaken");
        App atOnce = new App(DeviationSettings.defaults().withFinishWait(Duration.ZERO), "at-once");
        for (App app : List.of(inOrder, overtaken, atOnce)) {
            app.start("run-0");
            for (int t = 0; t <= 3; t++) {
                app.frame(iterations.get(t));
            }
            if (app != inOrder) {
                finishSmallBlock(app); // overtakes frames 4 and 5
                assertTrue(app == atOnce || app.hasRunGauges("run-0"), "still waiting for frames 4 and 5");
            }
            app.frame(iterations.get(4));
            assertTrue(app == atOnce || app.hasRunGauges("run-0"), "still waiting for frame 5");
            app.frame(iterations.get(5));
            if (app == inOrder) {
                finishSmallBlock(app);
            }
            assertFalse(app.hasRunGauges("run-0"), "finished once every iteration arrived");
        }

        List<String> alerts = inOrder.alerts();
        assertEquals(List.of("run-0", "run-1", "run-2"), alerts.stream().filter(alert -> alert.contains(" t=4 THEOREM1_INTERVAL "))
                .map(alert -> alert.split(" ")[0]).toList(), "2 exceedances in 5 checked steps: P[Bin(5, 0.01) ≥ 2] ≤ 0.001; " + alerts);
        assertEquals(alerts, overtaken.alerts());
        assertEquals(inOrder.meters(), overtaken.meters());
        assertEquals(0.0, overtaken.registry.find(MeterNames.DEVIATION_SKIPPED_RECORDS).counters().stream()
                .mapToDouble(Counter::count).sum(), "no frame was late");
        assertEquals(3 * 6.0, overtaken.counter(MeterNames.THEOREM1_STEPS, MeterNames.TAG_OUTCOME, "inside")
                + overtaken.counter(MeterNames.THEOREM1_STEPS, MeterNames.TAG_OUTCOME, "exceeded"), "steps 0 → 1 … 5 → 6 of 3 runs");

        // Finishing at once, as before frames, would have lost them:
        assertEquals(3 * 2.0, atOnce.counter(MeterNames.DEVIATION_SKIPPED_RECORDS, MeterNames.TAG_REASON, "late"));
        assertTrue(atOnce.alerts().isEmpty(), "the exceedances of steps 3 → 4 and 4 → 5 were never checked");
    }

    @Test
    void aRunFinishedWhoseIterationsNeverArriveFinishesTheRunAfterTheFinishWait() {
        App app = new App(DeviationSettings.defaults().withFinishWait(Duration.ofSeconds(20)), "wait");
        Map<Integer, List<IterationMetrics>> iterations = smallBlock();
        app.start("run-0");
        for (int t = 0; t <= 3; t++) {
            app.frame(iterations.get(t));
        }
        finishSmallBlock(app); // says 6 iterations were published; 4 and 5 were dropped
        app.driver.advanceWallClockTime(Duration.ofSeconds(15));
        assertTrue(app.hasRunGauges("run-0"), "still within the wait");
        app.driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertFalse(app.hasRunGauges("run-0"), "finished after the wait");
        app.frame(iterations.get(4));
        assertEquals(3.0, app.counter(MeterNames.DEVIATION_SKIPPED_RECORDS, MeterNames.TAG_REASON, "late"));
    }

    /** Three runs, iterations 0 .. 5 with the moments; every run leaves the Theorem 1 thresholds at steps 3 → 4 and 4 → 5. */
    private static Map<Integer, List<IterationMetrics>> smallBlock() {
        double upper = 0.125 + 0.05625 * Math.log(2 / 0.01);
        Map<Integer, List<IterationMetrics>> iterations = new TreeMap<>();
        for (int t = 0; t <= 5; t++) {
            List<IterationMetrics> frame = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                double loss = 10.0 + run - Math.min(t, 3) + Math.max(0, t - 3) * (upper + 0.01);
                frame.add(Telemetry.withMoments(EXPERIMENT, "run-" + run, t, loss, AT));
            }
            iterations.put(t, frame);
        }
        return iterations;
    }

    private static void finishSmallBlock(App app) {
        for (int run = 0; run < 3; run++) {
            app.finish("run-" + run, RunStatus.COMPLETED, 6, 9.0 + run, "run-0");
        }
    }
}
