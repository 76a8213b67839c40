package io.sgdscope.streams.deviation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.AlertSeverity;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.TopologyOnDriver;
import io.sgdscope.streams.metrics.MeterNames;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deviation checks on the test driver, each with a case just inside and one just outside its
 * bound; every expected bound is worked out here from the paper's formulas and the numbers fed in.
 */
class DeviationTopologyTest {

    private static final String EXPERIMENT = "gauss10";
    private static final double X = Math.log(2 / 0.01); // ln(2/δ)/c with the defaults δ = 0.01, c = 1

    /** η = 0.5, m = 4, ‖μ‖² = 2, Tr M = 3, L = 3, ‖Σ^{1/2}μ‖ = 0.8, ‖Σ‖_F = 1.2, ‖Σ‖₂ = 0.6 (as in Theorem1Test). */
    private static final MomentsAtTheta AT = new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6);
    /** Eq. 27: [−1 − 1.125, −1 + 1.125]; allowance above α₃x = 0.05625x, below β₁√x = 0.5√x. */
    private static final double UPPER = 0.125 + 0.05625 * X;
    private static final double LOWER = -2.125 - 0.5 * Math.sqrt(X);

    @TempDir
    Path stateDir;

    private TopologyOnDriver app;
    private PrometheusMeterRegistry registry;
    private TopologyTestDriver driver;
    private TestInputTopic<String, IterationMetrics> iterations;
    private TestInputTopic<String, SpecificRecord> runs;
    private TestOutputTopic<String, DeviationAlert> alerts;
    private AlertLog log;

    private void startDriver(DeviationSettings settings) {
        log = new AlertLog();
        app = new TopologyOnDriver(stateDir,
                meters -> new DeviationTopology(settings, 0, meters, log, TopologyOnDriver.CLOCK).build());
        registry = app.registry;
        driver = app.driver;
        iterations = app.iterations;
        runs = app.runs;
        alerts = app.output(Topics.ALERTS, TelemetrySerdes.alerts());
    }

    @AfterEach
    void closeDriver() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void stepsJustInsideTheTheorem1ThresholdsAreInsideAndJustOutsideAreExceedancesWithoutAnAlertForOne() {
        startDriver(DeviationSettings.defaults());
        step("inside-above", 1.0, UPPER - 1e-9, AT);
        step("outside-above", 1.0, UPPER + 1e-9, AT);
        step("inside-below", 5.0, LOWER + 1e-9, AT);
        step("outside-below", 5.0, LOWER - 1e-9, AT);

        assertEquals(2.0, outcome("inside"));
        assertEquals(2.0, outcome("exceeded"));
        assertTrue(alerts.isEmpty(), "one exceedance per run is never an alert");
    }

    @Test
    void exceedancesRaiseOneAlertWhenTheirCountInTheWindowBecomesSignificant() {
        // Window 20, δ = 0.01, α = 0.001: P[Bin(20, δ) ≥ 3] = 1 − P0 − P1 − P2 = 0.0010036 > α, P[≥ 4] = 4.3e-5.
        double p0 = Math.pow(0.99, 20);
        double p1 = 20 * 0.01 * Math.pow(0.99, 19);
        double p2 = 190 * 1e-4 * Math.pow(0.99, 18);
        assertTrue(1 - p0 - p1 - p2 > 0.001, "3 of 20 is just not significant");
        startDriver(DeviationSettings.defaults().withWindow(20, 0.001));

        double loss = 5.0;
        iterations.pipeInput("run-w", Telemetry.withMoments(EXPERIMENT, "run-w", 0, loss, AT));
        for (int t = 0; t < 22; t++) {
            boolean exceed = t >= 17; // steps 17, 18, 19: 3 of 20; step 20: 4 of the last 20; step 21: 5
            double delta = exceed ? UPPER + 0.01 : -1.0;
            loss += delta;
            iterations.pipeInput("run-w", Telemetry.withMoments(EXPERIMENT, "run-w", t + 1, loss, AT));
            if (t == 19) {
                assertTrue(alerts.isEmpty(), "3 exceedances in 20 steps: p = 0.0010036 > 0.001, no alert");
            }
        }
        List<DeviationAlert> raised = alerts.readValuesToList();
        assertEquals(1, raised.size(), "one alert for the episode, not one per step: " + raised);
        DeviationAlert alert = raised.get(0);
        assertEquals(DeviationCheck.THEOREM1_INTERVAL, alert.getCheck());
        assertEquals(AlertSeverity.WARNING, alert.getSeverity());
        assertEquals(20, alert.getIteration(), "the step 20 → 21 made it 4 of the last 20");
        assertEquals(4.0, alert.getObserved());
        assertEquals(4.0, alert.getBound(), "the smallest significant count of 20 steps");
        assertTrue(alert.getMessage().startsWith("run run-w: 4 of the last 20 checked steps left the Theorem 1 interval"),
                alert.getMessage());
        assertTrue(alert.getMessage().contains("P[Bin(20, 0.01) ≥ 4] = 4.26e-05 ≤ α = 0.001"), alert.getMessage());
        assertEquals(1.0, registry.get(MeterNames.DEVIATION_ALERTS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT,
                MeterNames.TAG_CHECK, "theorem1_interval", MeterNames.TAG_SEVERITY, "warning").counter().count());
    }

    @Test
    void theMartingaleRaisesAnAlertTheStepItLeavesTheAzumaBernsteinEnvelope() {
        startDriver(DeviationSettings.defaults());
        // η = 0.01, m = 4, ‖μ‖² = 0.01 (μ = 0.1), Tr M = 0.02, L = 1, ‖Σ‖₂ = 0.01, p = 1: tiny constants.
        MomentsAtTheta at = new MomentsAtTheta(0.01, 4, 0.01, 0.02, 1.0, 0.01, 0.01, 0.01);
        double etaHat = -0.01 * 0.01;                       // ê_t = −η‖μ‖² = −1e-4
        double bias = 0.01 * 0.01 / 2 * 1.0 * 0.02;         // (η²/2) L Tr M = 1e-6 per step
        double k2 = Math.max(2 * 0.1 * 0.01 * (0.1 + Math.sqrt(0.01 * 1) / Math.sqrt(4)),
                0.0001 * 1 * (0.01 + 0.01) + 0.01 * 0.01 / 2 * (1 + 0.01) * 0.1 + 5 * 0.0001 * 1 * 0.01 / 8); // 3e-4
        double d = 0.001;                                   // Δ_t − ê_t, the same every step: S_T = T·d
        double envelope3 = k2 * Math.max(Math.sqrt(8 * 3 * X), 2 * X) + 3 * bias;
        double envelope4 = k2 * Math.max(Math.sqrt(8 * 4 * X), 2 * X) + 4 * bias;
        assertTrue(3 * d < envelope3 && 4 * d > envelope4, "inside after 3 steps, outside after 4");

        runs.pipeInput(Topics.runStartedKey("run-m"), Telemetry.started(EXPERIMENT, "run-m", 0, "sgd", 1));
        double loss = 1.0;
        for (int t = 0; t <= 5; t++) {
            iterations.pipeInput("run-m", Telemetry.withMoments(EXPERIMENT, "run-m", t, loss, at));
            loss += etaHat + d;
        }
        List<DeviationAlert> envelopeAlerts = alerts.readValuesToList().stream()
                .filter(alert -> alert.getCheck() == DeviationCheck.AZUMA_BERNSTEIN).toList();
        assertEquals(1, envelopeAlerts.size(), envelopeAlerts.toString());
        DeviationAlert alert = envelopeAlerts.get(0);
        assertEquals(3, alert.getIteration(), "T = 4 checked steps: 0 → 1 … 3 → 4");
        assertEquals(4 * d, alert.getObserved(), 1e-12);
        assertEquals(envelope4, alert.getBound(), 1e-12);
        assertTrue(alert.getMessage().contains("left the Azuma–Bernstein envelope"), alert.getMessage());
        Tags run = Tags.of(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_RUN, "run-m");
        assertEquals(5 * d, registry.get(MeterNames.RUN_MARTINGALE).tags(run).gauge().value(), 1e-12, "a watched run's S_T");
    }

    @Test
    void anAdaptiveRunBreakingTheSupermartingaleConditionRaisesAnAlertAVanillaRunIsOnlyCounted() {
        startDriver(DeviationSettings.defaults());
        // ‖μ‖² = 2, L = 4, Tr M = 2: η ≤ 2‖μ‖²/(L Tr M) = 0.5; at η = 0.5 the condition holds with equality.
        MomentsAtTheta onTheBound = new MomentsAtTheta(0.5, 5, 2.0, 2.0, 4.0, Double.NaN, Double.NaN, Double.NaN);
        MomentsAtTheta justAbove = new MomentsAtTheta(0.5000001, 5, 2.0, 2.0, 4.0, Double.NaN, Double.NaN, Double.NaN);
        runs.pipeInput(Topics.runStartedKey("adaptive"), Telemetry.started(EXPERIMENT, "adaptive", 20, "adaptive-sgd", 1150));
        runs.pipeInput(Topics.runStartedKey("vanilla"), Telemetry.started(EXPERIMENT, "vanilla", 21, "sgd", 1150));
        for (String run : List.of("adaptive", "vanilla")) {
            iterations.pipeInput(run, Telemetry.withMoments(EXPERIMENT, run, 0, 2.0, onTheBound));
            iterations.pipeInput(run, Telemetry.withMoments(EXPERIMENT, run, 1, 1.9, justAbove));
            iterations.pipeInput(run, Telemetry.withMoments(EXPERIMENT, run, 2, 1.8, justAbove));
        }

        List<DeviationAlert> raised = alerts.readValuesToList();
        assertEquals(1, raised.size(), "one alert: the adaptive run's first breaking step, not the vanilla run's: " + raised);
        DeviationAlert alert = raised.get(0);
        assertEquals("adaptive", alert.getRunId());
        assertEquals(DeviationCheck.SUPERMARTINGALE, alert.getCheck());
        assertEquals(1, alert.getIteration());
        assertEquals(0.5000001, alert.getObserved());
        assertEquals(0.5, alert.getBound(), 1e-15);
        assertEquals(1.0, supermartingale("adaptive", "held"));
        assertEquals(1.0, supermartingale("adaptive", "broken"), "its step 1 → 2; step 2 waits for iteration 3");
        assertEquals(1.0, supermartingale("vanilla", "held"));
        assertEquals(1.0, supermartingale("vanilla", "broken"));
        assertEquals(4.0, outcome("unchecked"), "without the Σ quantities Theorem 1's allowance is not checked");
    }

    @Test
    void aLossJustAboveTheDivergenceFactorOrNotFiniteRaisesOneCriticalAlertAtOnce() {
        startDriver(DeviationSettings.defaults()); // factor 10
        iterations.pipeInput("steady", Telemetry.iteration(EXPERIMENT, "steady", 0, 2.0));
        iterations.pipeInput("steady", Telemetry.iteration(EXPERIMENT, "steady", 1, 20.0)); // 10 × 2.0: not above
        iterations.pipeInput("blowing-up", Telemetry.iteration(EXPERIMENT, "blowing-up", 0, 2.0));
        iterations.pipeInput("blowing-up", Telemetry.iteration(EXPERIMENT, "blowing-up", 1, 20.000001));
        iterations.pipeInput("blowing-up", Telemetry.iteration(EXPERIMENT, "blowing-up", 2, 50.0));
        iterations.pipeInput("nan", Telemetry.iteration(EXPERIMENT, "nan", 0, Double.NaN));
        runs.pipeInput(Topics.runFinishedKey("nan"), Telemetry.finished(EXPERIMENT, "nan", RunStatus.DIVERGED, 1, Double.NaN));
        runs.pipeInput(Topics.runFinishedKey("gradient"),
                Telemetry.finished(EXPERIMENT, "gradient", RunStatus.DIVERGED, 7, 3.0)); // the trainer saw it first

        List<DeviationAlert> raised = alerts.readValuesToList();
        assertEquals(List.of("blowing-up", "nan", "gradient"), raised.stream().map(DeviationAlert::getRunId).toList());
        raised.forEach(alert -> {
            assertEquals(DeviationCheck.DIVERGENCE, alert.getCheck());
            assertEquals(AlertSeverity.CRITICAL, alert.getSeverity());
        });
        assertEquals(1, raised.get(0).getIteration());
        assertEquals(20.000001, raised.get(0).getObserved());
        assertEquals(20.0, raised.get(0).getBound());
        assertEquals("run blowing-up diverged at t = 1: loss 20.0000 is above 10 × the initial loss 2.00000 (t = 0) = 20.0000",
                raised.get(0).getMessage());
        assertTrue(Double.isNaN(raised.get(1).getObserved()));
        assertEquals("run nan diverged at t = 0: loss f(θ_t) = NaN", raised.get(1).getMessage());
        assertEquals(6, raised.get(2).getIteration());
        assertEquals(3.0, registry.get(MeterNames.DEVIATION_ALERTS).tags(MeterNames.TAG_CHECK, "divergence",
                MeterNames.TAG_SEVERITY, "critical").counter().count());
        assertEquals(0.0, registry.get(MeterNames.DEVIATION_ALERTS).tags(MeterNames.TAG_CHECK, "azuma_bernstein").counter().count(),
                "every check's counter exists from the experiment's first record, at 0");
    }

    @Test
    void stepsWithoutMomentsAreUncheckedAndRaiseNothing() {
        startDriver(DeviationSettings.defaults());
        double loss = 2.0;
        for (int t = 0; t <= 10; t++) {
            iterations.pipeInput("plain", Telemetry.iteration(EXPERIMENT, "plain", t, loss));
            loss += t % 2 == 0 ? 5.0 : -5.0; // wild, but under 10 × 2.0 and with no moments nothing to compare with
        }
        assertEquals(10.0, outcome("unchecked"));
        assertTrue(alerts.isEmpty());
    }

    @Test
    void outOfOrderAndRepeatedIterationsGiveTheSameStepsOnce() {
        startDriver(DeviationSettings.defaults());
        iterations.pipeInput("shuffled", Telemetry.withMoments(EXPERIMENT, "shuffled", 1, 1.0 + UPPER + 1e-6, AT));
        iterations.pipeInput("shuffled", Telemetry.withMoments(EXPERIMENT, "shuffled", 0, 1.0, AT));
        iterations.pipeInput("shuffled", Telemetry.withMoments(EXPERIMENT, "shuffled", 0, 1.0, AT));
        iterations.pipeInput("shuffled", Telemetry.withMoments(EXPERIMENT, "shuffled", 2, 1.0 + UPPER + 1e-6 - 1.0, AT));

        assertEquals(1.0, outcome("exceeded"), "step 0 → 1");
        assertEquals(1.0, outcome("inside"), "step 1 → 2");
        assertEquals(1.0, registry.get(MeterNames.DEVIATION_SKIPPED_RECORDS).tags(MeterNames.TAG_REASON, "duplicate")
                .counter().count());
    }

    @Test
    void aWatchedRunShowsItsDeltaAndTheorem1BoundsUntilItFinishes() {
        startDriver(DeviationSettings.defaults());
        runs.pipeInput(Topics.runStartedKey("run-0"), Telemetry.started(EXPERIMENT, "run-0", 0, "sgd", 1150));
        iterations.pipeInput("run-0", Telemetry.withMoments(EXPERIMENT, "run-0", 0, 3.0, AT));
        iterations.pipeInput("run-0", Telemetry.withMoments(EXPERIMENT, "run-0", 1, 2.5, AT));

        Tags run = Tags.of(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_RUN, "run-0");
        assertEquals(-0.5, registry.get(MeterNames.RUN_LOSS_DELTA).tags(run).gauge().value());
        assertEquals(0.125, registry.get(MeterNames.RUN_THEOREM1_INTERVAL).tags(run.and(MeterNames.TAG_SIDE, "upper"))
                .gauge().value(), 1e-15);
        assertEquals(LOWER, registry.get(MeterNames.RUN_THEOREM1_THRESHOLD).tags(run.and(MeterNames.TAG_SIDE, "lower"))
                .gauge().value(), 1e-12);
        String scrape = registry.scrape();
        assertTrue(scrape.contains("sgdscope_run_loss_delta{experiment=\"gauss10\",run=\"run-0\"} -0.5"), scrape);

        runs.pipeInput(Topics.runFinishedKey("run-0"), Telemetry.finished(EXPERIMENT, "run-0", RunStatus.COMPLETED, 2, 2.25));
        assertFalse(registry.getMeters().stream().anyMatch(meter -> "run-0".equals(meter.getId().getTag(MeterNames.TAG_RUN))));
        assertEquals(2.0, outcome("inside"), "f(θ_2) from RunFinished closed the last step 1 → 2");
    }

    @Test
    void aPoisonPillIsDeadLetteredAndTheChecksGoOn() {
        startDriver(DeviationSettings.defaults());
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), new ByteArraySerializer());
        raw.pipeInput("run-x", "\u0000poison".getBytes(StandardCharsets.UTF_8));
        iterations.pipeInput("nan", Telemetry.iteration(EXPERIMENT, "nan", 0, Double.NaN));

        assertEquals(DeviationCheck.DIVERGENCE, alerts.readValue().getCheck());
        TestOutputTopic<String, byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new StringDeserializer(),
                new ByteArrayDeserializer());
        assertEquals("run-x", deadLetters.readRecord().key());
        Counter unreadable = registry.get(MeterNames.UNREADABLE_RECORDS).tags(MeterNames.TAG_TOPIC, Topics.ITERATIONS).counter();
        assertEquals(1.0, unreadable.count());
    }

    /** A run with two iterations: loss, then loss + Δ, both with the moments at θ. */
    private void step(String run, double loss, double delta, MomentsAtTheta at) {
        iterations.pipeInput(run, Telemetry.withMoments(EXPERIMENT, run, 0, loss, at));
        iterations.pipeInput(run, Telemetry.withMoments(EXPERIMENT, run, 1, loss + delta, at));
    }

    private double outcome(String outcome) {
        return registry.get(MeterNames.THEOREM1_STEPS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_OUTCOME, outcome)
                .counter().count();
    }

    private double supermartingale(String optimizerRun, String condition) {
        String optimizer = optimizerRun.equals("adaptive") ? "adaptive" : "vanilla";
        return registry.get(MeterNames.SUPERMARTINGALE_STEPS).tags(MeterNames.TAG_OPTIMIZER, optimizer,
                MeterNames.TAG_CONDITION, condition).counter().count();
    }
}
