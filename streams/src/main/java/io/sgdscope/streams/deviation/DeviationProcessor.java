package io.sgdscope.streams.deviation;

import static java.util.Locale.ROOT;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.AlertSeverity;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.StepPairing;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The checks of one run, keyed by runId, step by step as iterations t and t + 1 both arrive:
 *
 * <ul>
 *   <li><b>Theorem 1</b> (Eq. 27–29): the step is an exceedance when Δ_t leaves the interval ± the
 *       deviation allowance; a THEOREM1_INTERVAL alert when the exceedances among the last {@code window}
 *       checked steps are significantly more than δ per step ({@link BinomialTest}).</li>
 *   <li><b>Theorem 2</b> (Eq. 32–33): S_T = Σ(Δ_t − ê_t) with ê_t = −η‖μ‖², the midpoint of Eq. 27; an
 *       AZUMA_BERNSTEIN alert when |S_T| leaves the envelope {@link Theorem2#envelope} plus B_T =
 *       Σ(η²/2) L Tr M, the most by which ê_t can miss E[Δ_t | θ_t] (Eq. 27), summed.</li>
 *   <li><b>Theorem 3</b> (§5.4): the super-martingale condition −η‖μ‖² + (η²/2) L Tr M ≤ 0 at every
 *       checked step; a SUPERMARTINGALE alert when an adaptive-step run breaks it; for vanilla SGD only
 *       counted (its share is the phase indicator).</li>
 *   <li><b>Divergence</b>: a non-finite loss, minibatch loss or gradient norm, a loss above
 *       {@code divergenceFactor} times the initial loss, or RunFinished DIVERGED: a CRITICAL alert at once.</li>
 * </ul>
 *
 * <p>Where the moments were not computed at θ_t (the trainer computes them every {@code --moments-every}
 * iterations) a step is not checked: it counts as {@code unchecked} and enters neither the window nor
 * S_T. Summing S_T over the checked steps only keeps it a martingale (which steps are checked is fixed
 * in advance, not chosen by the outcome). The theorem 1 check needs the Σ quantities as well; the
 * super-martingale condition and S_T need only η, ‖μ‖², L and Tr M; the envelope needs RunStarted
 * (the parameter count p of K₂) and ‖Σ‖₂.
 *
 * <p>An alert is raised when its condition starts to hold, and again only after it stopped holding:
 * one alert per episode, not one per step. Divergence is raised once per run.
 */
final class DeviationProcessor implements Processor<String, RunInput, String, DeviationAlert> {

    private final DeviationSettings settings;
    private final double exponent;
    private final BinomialTest binomial;
    private final MeterRegistry registry;
    private final MeterGroups watchedGauges;
    private final AlertLog alerts;
    private final Clock clock;
    /** A counter by name and label values (cheap to hash; the Tags are built only when it is registered). */
    private record CounterKey(String name, String experiment, String first, String second) {}

    private final Map<CounterKey, Counter> counters = new HashMap<>();
    /** The counters incremented on every record or step, by experiment (looked up without building a key). */
    private static final class ExperimentCounters {
        Counter records;
        final Counter[] theorem1Steps = new Counter[THEOREM1_OUTCOMES.size()];
        /** By optimizer (vanilla, adaptive, unknown) and condition (held, broken). */
        final Counter[] supermartingaleSteps = new Counter[6];
    }

    private static final List<String> THEOREM1_OUTCOMES = List.of("inside", "exceeded", "unchecked");
    private final Map<String, ExperimentCounters> experiments = new HashMap<>();
    private final Set<String> watchedHere = new HashSet<>();
    private WriteBackStore<RunDeviation> runs;
    private ProcessorContext<String, DeviationAlert> context;

    DeviationProcessor(DeviationSettings settings, MeterRegistry registry, MeterGroups watchedGauges, AlertLog alerts,
                       Clock clock) {
        this.settings = settings;
        this.exponent = settings.exponent();
        this.binomial = new BinomialTest(settings.delta(), settings.alertLevel(), settings.window());
        this.registry = registry;
        this.watchedGauges = watchedGauges;
        this.alerts = alerts;
        this.clock = clock;
    }

    @Override
    public void init(ProcessorContext<String, DeviationAlert> context) {
        this.context = context;
        this.runs = context.getStateStore(DeviationTopology.RUN_DEVIATION_STORE);
        this.watchedHere.clear();
    }

    @Override
    public void process(Record<String, RunInput> record) {
        RunInput input = record.value();
        if (input instanceof RunInput.Frames frames) {
            Frame frame = frames.frame();
            for (int run = 0; run < frame.size(); run++) {
                onIteration(frame.row(run), record.timestamp());
            }
        } else if (input instanceof RunInput.Started started) {
            onStarted(started);
        } else if (input instanceof RunInput.Finished finished) {
            onFinished(finished, record.timestamp());
        }
    }

    private void onIteration(IterationMetrics metrics, long timestamp) {
        String experimentId = metrics.getExperimentId();
        String runId = metrics.getRunId();
        int t = metrics.getIteration();
        ExperimentCounters experiment = seeExperiment(experimentId);
        if (experiment.records == null) {
            experiment.records = counter(new CounterKey(MeterNames.DEVIATION_RECORDS, experimentId, null, null),
                    () -> Tags.of(MeterNames.TAG_EXPERIMENT, experimentId), "IterationMetrics records read by the deviation app");
        }
        experiment.records.increment();
        if (t < 0) {
            return;
        }
        RunDeviation state = state(runId, experimentId);
        if (state.finished() || !state.iterations.add(t)) {
            String reason = state.finished() ? "late" : "duplicate";
            counter(new CounterKey(MeterNames.DEVIATION_SKIPPED_RECORDS, experimentId, reason, null),
                    () -> Tags.of(MeterNames.TAG_EXPERIMENT, experimentId, MeterNames.TAG_REASON, reason),
                    "Records the deviation app skipped: duplicate (an iteration sent again), late (after RunFinished)").increment();
            return;
        }
        checkDivergence(runId, state, metrics, timestamp);
        state.steps.add(t, metrics.getLoss(), MomentsAtTheta.of(metrics), state.iterations,
                step -> checkStep(runId, state, step, timestamp));
        runs.put(runId, state);
    }

    private void onStarted(RunInput.Started started) {
        RunDeviation state = state(started.runId(), started.experimentId());
        if (state.started()) {
            return;
        }
        boolean watched = started.runIndex() >= 0 && started.runIndex() < settings.watchedRuns() && !state.finished();
        state.start(started.runIndex(), started.optimizer(), started.vanilla(), started.parameterCount(), watched);
        runs.put(started.runId(), state);
    }

    private void onFinished(RunInput.Finished finished, long timestamp) {
        String runId = finished.runId();
        RunDeviation state = state(runId, finished.experimentId());
        if (state.finished()) {
            return;
        }
        seeExperiment(finished.experimentId());
        if (finished.status() == RunStatus.DIVERGED && !state.diverged()) {
            state.markDiverged();
            raise(runId, state, Math.max(0, finished.iterations() - 1), DeviationCheck.DIVERGENCE, Double.NaN, Double.NaN,
                    String.format(ROOT, "run %s ended DIVERGED after %d iterations (RunFinished): %s", runId,
                            finished.iterations(), finished.message() == null ? "no reason given" : finished.message()),
                    timestamp);
        }
        Double lossAfter = finished.lossAfterLastIteration();
        int end = finished.iterations();
        if (lossAfter != null && state.iterations.add(end)) {
            // f(θ_T) closes the step T − 1 → T (see RunInput.Finished#lossAfterLastIteration)
            state.steps.add(end, lossAfter, null, state.iterations, step -> checkStep(runId, state, step, timestamp));
        }
        state.finish();
        runs.put(runId, state);
        watchedGauges.remove(runId);
        watchedHere.remove(runId);
    }

    /** Divergence: non-finite loss, minibatch loss or gradient, or loss above the factor times the initial loss. */
    private void checkDivergence(String runId, RunDeviation state, IterationMetrics metrics, long timestamp) {
        int t = metrics.getIteration();
        double loss = metrics.getLoss();
        if (Double.isFinite(loss) && (state.initialIteration < 0 || t < state.initialIteration)) {
            state.initialLoss = loss;
            state.initialIteration = t;
        }
        if (state.diverged()) {
            return;
        }
        String reason = null;
        double bound = Double.NaN;
        if (!Double.isFinite(loss)) {
            reason = "loss f(θ_t) = " + loss;
        } else if (!Double.isFinite(metrics.getMinibatchLoss())) {
            reason = "minibatch loss = " + metrics.getMinibatchLoss();
        } else if (!Double.isFinite(metrics.getSgNorm())) {
            reason = "gradient norm ‖g_t‖ = " + metrics.getSgNorm();
        } else if (state.initialLoss > 0 && loss > settings.divergenceFactor() * state.initialLoss) {
            bound = settings.divergenceFactor() * state.initialLoss;
            reason = String.format(ROOT, "loss %.6g is above %s × the initial loss %.6g (t = %d) = %.6g", loss,
                    number(settings.divergenceFactor()), state.initialLoss, state.initialIteration, bound);
        }
        if (reason != null) {
            state.markDiverged();
            raise(runId, state, t, DeviationCheck.DIVERGENCE, loss, bound,
                    String.format(ROOT, "run %s diverged at t = %d: %s", runId, t, reason), timestamp);
        }
    }

    private void checkStep(String runId, RunDeviation state, StepPairing.Step<MomentsAtTheta> step, long timestamp) {
        int t = step.iteration();
        double lossDelta = step.lossDelta(); // Eq. 22
        MomentsAtTheta at = step.atTheta();
        boolean watched = state.watched() && !state.finished();
        Tags run = watched ? Tags.of(MeterNames.TAG_EXPERIMENT, state.experimentId, MeterNames.TAG_RUN, runId) : null;
        if (watched) {
            watch(runId, MeterNames.RUN_LOSS_DELTA, run, "A watched run's latest loss change Δ_t(f) (Eq. 22)", lossDelta);
            watch(runId, MeterNames.RUN_STEP_ITERATION, run, "The iteration t of that step", t);
        }
        if (!Double.isFinite(lossDelta) || !at.hasInterval()) {
            theorem1Outcome(state, "unchecked");
            return;
        }
        Theorem1.Interval interval = Theorem1.interval(at);                             // Eq. 27
        checkSupermartingale(runId, state, t, at, interval, timestamp);
        addToMartingale(state, at, lossDelta, interval);
        if (at.hasAllowance()) {
            Theorem1.Bounds bounds = new Theorem1.Bounds(interval, Theorem1.allowance(at, exponent)); // Eq. 28–29
            boolean exceeded = bounds.exceededBy(lossDelta);
            theorem1Outcome(state, exceeded ? "exceeded" : "inside");
            state.pushStep(exceeded);
            boolean significant = binomial.significant(state.exceedances, state.windowFilled);
            if (significant && !state.exceedancesSignificant()) {
                raise(runId, state, t, DeviationCheck.THEOREM1_INTERVAL, state.exceedances,
                        binomial.criticalCount(state.windowFilled), theorem1Message(runId, state, t, lossDelta, bounds), timestamp);
            }
            state.exceedancesSignificant(significant);
            if (watched) {
                watch(runId, MeterNames.RUN_THEOREM1_THRESHOLD, run.and(MeterNames.TAG_SIDE, "lower"),
                        "Δ_t below this is an exceedance: Eq. 27's lower end minus the allowance of Eq. 29", bounds.lowerThreshold());
                watch(runId, MeterNames.RUN_THEOREM1_THRESHOLD, run.and(MeterNames.TAG_SIDE, "upper"),
                        "Δ_t above this is an exceedance: Eq. 27's upper end plus the allowance of Eq. 28", bounds.upperThreshold());
                watch(runId, MeterNames.RUN_WINDOW_EXCEEDANCES, run,
                        "Exceedances among the last checked steps of the window", state.exceedances);
            }
        } else {
            theorem1Outcome(state, "unchecked");
        }
        if (watched) {
            watch(runId, MeterNames.RUN_THEOREM1_INTERVAL, run.and(MeterNames.TAG_SIDE, "lower"),
                    "Lower end of Eq. 27's interval of E[Δ_t | θ_t]", interval.lower());
            watch(runId, MeterNames.RUN_THEOREM1_INTERVAL, run.and(MeterNames.TAG_SIDE, "upper"),
                    "Upper end of Eq. 27's interval of E[Δ_t | θ_t]", interval.upper());
        }
        checkEnvelope(runId, state, t, watched, run, timestamp);
    }

    /** §5.4: −η‖μ‖² + (η²/2) L Tr M ≤ 0 (the upper end of Eq. 27). */
    private void checkSupermartingale(String runId, RunDeviation state, int t, MomentsAtTheta at,
                                      Theorem1.Interval interval, long timestamp) {
        boolean held = interval.upper() <= 0;
        String optimizer = switch (state.optimizer) {
            case RunDeviation.OPTIMIZER_VANILLA -> "vanilla";
            case RunDeviation.OPTIMIZER_ADAPTIVE -> "adaptive";
            default -> "unknown";
        };
        String condition = held ? "held" : "broken";
        Counter[] steps = seeExperiment(state.experimentId).supermartingaleSteps;
        int slot = 2 * Math.floorMod(state.optimizer, 3) + (held ? 0 : 1);
        if (steps[slot] == null) {
            steps[slot] = counter(new CounterKey(MeterNames.SUPERMARTINGALE_STEPS, state.experimentId, optimizer, condition),
                    () -> Tags.of(MeterNames.TAG_EXPERIMENT, state.experimentId, MeterNames.TAG_OPTIMIZER, optimizer,
                            MeterNames.TAG_CONDITION, condition),
                    "Checked steps by optimizer and whether the super-martingale condition of Sec. 5.4 held");
        }
        steps[slot].increment();
        if (state.optimizer != RunDeviation.OPTIMIZER_ADAPTIVE) {
            return;
        }
        if (!held && !state.supermartingaleBroken()) {
            double largest = Theorem1.largestSupermartingaleStep(at.gradNormSq(), at.hessianNorm(), at.traceM());
            raise(runId, state, t, DeviationCheck.SUPERMARTINGALE, at.stepSize(), largest, String.format(ROOT,
                    "run %s (optimizer %s, adaptive step) breaks the super-martingale condition at t = %d: "
                            + "−η‖μ‖² + (η²/2) L Tr M = %.6g > 0 (§5.4, Thm 3) with step size η_t = %.6g; it must stay "
                            + "≤ 2‖μ‖²/(L Tr M) = %.6g (‖μ‖² = %.6g, L = %.6g, Tr M = %.6g)",
                    runId, state.optimizerName, t, interval.upper(), at.stepSize(), largest, at.gradNormSq(),
                    at.hessianNorm(), at.traceM()), timestamp);
        }
        state.supermartingaleBroken(!held);
    }

    /** S_T += Δ_t − ê_t, B_T += (η²/2) L Tr M; the running maxima of Thm 2's constants. */
    private static void addToMartingale(RunDeviation state, MomentsAtTheta at, double lossDelta, Theorem1.Interval interval) {
        state.martingale += lossDelta - interval.midpoint();
        state.biasAllowance += interval.halfWidth();
        state.terms++;
        state.maxStepSize = Math.max(state.maxStepSize, at.stepSize());
        state.maxGradNorm = Math.max(state.maxGradNorm, Math.sqrt(at.gradNormSq()));
        state.maxHessianNorm = Math.max(state.maxHessianNorm, at.hessianNorm());
        if (at.batchSize() > 0) {
            state.minBatchSize = Math.min(state.minBatchSize, at.batchSize());
        }
        if (Double.isFinite(at.sigmaSpectral())) {
            state.maxSigmaSpectral = Double.isNaN(state.maxSigmaSpectral)
                    ? at.sigmaSpectral() : Math.max(state.maxSigmaSpectral, at.sigmaSpectral());
        }
    }

    /** Thm 2: |S_T| against K₂ max(√(8Tx), 2x) (Eq. 32–33) plus B_T. */
    private void checkEnvelope(String runId, RunDeviation state, int t, boolean watched, Tags run, long timestamp) {
        if (state.parameterCount <= 0 || Double.isNaN(state.maxSigmaSpectral) || state.minBatchSize == Integer.MAX_VALUE) {
            return; // K₂ needs p (RunStarted), ‖Σ‖₂ and m
        }
        double k2 = Theorem2.k2(state.maxStepSize, state.maxGradNorm, state.maxSigmaSpectral, state.maxHessianNorm,
                state.maxGradNorm, state.minBatchSize, state.parameterCount);
        double azuma = Theorem2.envelope(k2, state.terms, exponent);
        double envelope = azuma + state.biasAllowance;
        boolean outside = Math.abs(state.martingale) > envelope;
        if (outside && !state.outsideEnvelope()) {
            raise(runId, state, t, DeviationCheck.AZUMA_BERNSTEIN, Math.abs(state.martingale), envelope, String.format(ROOT,
                    "run %s: the cumulative martingale |S_T| = |Σ(Δ_t − ê_t)| = %.6g over T = %d checked steps (to t = %d) "
                            + "left the Azuma–Bernstein envelope %.6g (Thm 2, Eq. 32–33: K₂ = %.6g, δ = %s, c = %s, "
                            + "K₂·max(√(8Tx), 2x) = %.6g, plus %.6g for ê_t = −η‖μ‖² missing E[Δ_t | θ_t] by at most "
                            + "(η²/2) L Tr M per step)",
                    runId, Math.abs(state.martingale), state.terms, t, envelope, k2, number(settings.delta()),
                    number(settings.c()), azuma, state.biasAllowance), timestamp);
        }
        state.outsideEnvelope(outside);
        if (watched) {
            watch(runId, MeterNames.RUN_MARTINGALE, run, "S_T = Σ(Δ_t − ê_t) over the checked steps (Sec. 5.3)", state.martingale);
            watch(runId, MeterNames.RUN_MARTINGALE_ENVELOPE, run,
                    "The Azuma–Bernstein envelope of Thm 2 (Eq. 32–33) plus the bias allowance of ê_t", envelope);
        }
    }

    private String theorem1Message(String runId, RunDeviation state, int t, double lossDelta, Theorem1.Bounds bounds) {
        int n = state.windowFilled;
        return String.format(ROOT, "run %s: %d of the last %d checked steps left the Theorem 1 interval plus deviation "
                        + "allowance, %.2f expected at δ = %s (P[Bin(%d, %s) ≥ %d] = %.3g ≤ α = %s; c = %s); the latest at "
                        + "t = %d: Δ_t = %.6g outside [%.6g, %.6g] (Eq. 27's interval [%.6g, %.6g] widened by s = %.6g below "
                        + "and %.6g above, Eq. 28–29)",
                runId, state.exceedances, n, settings.delta() * n, number(settings.delta()), n, number(settings.delta()),
                state.exceedances, binomial.pValue(state.exceedances, n), number(settings.alertLevel()),
                number(settings.c()), t, lossDelta, bounds.lowerThreshold(), bounds.upperThreshold(),
                bounds.interval().lower(), bounds.interval().upper(), bounds.allowance().below(), bounds.allowance().above());
    }

    private void raise(String runId, RunDeviation state, int t, DeviationCheck check, double observed, double bound,
                       String message, long timestamp) {
        AlertSeverity severity = AlertLog.severityOf(check);
        DeviationAlert alert = DeviationAlert.newBuilder()
                .setRunId(runId)
                .setExperimentId(state.experimentId)
                .setIteration(t)
                .setCheck(check)
                .setObserved(observed)
                .setBound(bound)
                .setSeverity(severity)
                .setMessage(message)
                .setRaisedAtMillis(clock.millis())
                .build();
        alertCounter(state.experimentId, check).increment();
        alerts.add(alert);
        context.forward(new Record<>(runId, alert, timestamp));
    }

    /** The experiment's counters of every step; the first time, its alert counters are registered at 0. */
    private ExperimentCounters seeExperiment(String experimentId) {
        ExperimentCounters experiment = experiments.get(experimentId);
        if (experiment == null) {
            experiment = new ExperimentCounters();
            experiments.put(experimentId, experiment);
            // So that the first alert of each check is an increase from 0, not a new series.
            for (DeviationCheck check : DeviationCheck.values()) {
                alertCounter(experimentId, check);
            }
        }
        return experiment;
    }

    private Counter alertCounter(String experimentId, DeviationCheck check) {
        return counter(new CounterKey(MeterNames.DEVIATION_ALERTS, experimentId, check.name(), null),
                () -> Tags.of(MeterNames.TAG_EXPERIMENT, experimentId,
                        MeterNames.TAG_CHECK, check.name().toLowerCase(Locale.ROOT),
                        MeterNames.TAG_SEVERITY, AlertLog.severityOf(check).name().toLowerCase(Locale.ROOT)),
                "DeviationAlerts raised, by check and severity");
    }

    private void theorem1Outcome(RunDeviation state, String outcome) {
        Counter[] steps = seeExperiment(state.experimentId).theorem1Steps;
        int slot = THEOREM1_OUTCOMES.indexOf(outcome);
        if (steps[slot] == null) {
            steps[slot] = counter(new CounterKey(MeterNames.THEOREM1_STEPS, state.experimentId, outcome, null),
                    () -> Tags.of(MeterNames.TAG_EXPERIMENT, state.experimentId, MeterNames.TAG_OUTCOME, outcome),
                    "Steps t -> t+1 by Theorem 1 outcome: inside, exceeded, unchecked (no moments at theta_t)");
        }
        steps[slot].increment();
    }

    private void watch(String runId, String name, Tags tags, String description, double value) {
        watchedGauges.set(runId, name, tags, description, value);
        watchedHere.add(runId);
    }

    private RunDeviation state(String runId, String experimentId) {
        RunDeviation state = runs.get(runId);
        return state != null ? state : RunDeviation.fresh(experimentId, settings.window());
    }

    private Counter counter(CounterKey key, java.util.function.Supplier<Tags> tags, String description) {
        Counter counter = counters.get(key);
        if (counter == null) {
            counter = Counter.builder(key.name()).tags(tags.get()).description(description).register(registry);
            counters.put(key, counter);
        }
        return counter;
    }

    @Override
    public void close() {
        watchedHere.forEach(watchedGauges::remove);
        watchedHere.clear();
    }

    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e6 ? String.valueOf((long) value) : String.valueOf(value);
    }
}
