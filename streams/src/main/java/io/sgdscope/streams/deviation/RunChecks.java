package io.sgdscope.streams.deviation;

import static java.util.Locale.ROOT;

import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.HashMap;
import java.util.Map;

/**
 * The checks of §5.2–5.4 applied to one run, step by step (see docs/deviation-checks.md):
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
 *   <li><b>Divergence</b>: a non-finite loss, minibatch loss or gradient norm, or a loss above
 *       {@code divergenceFactor} times the initial loss ({@link #divergence}); RunFinished DIVERGED is
 *       handled where finishes are.</li>
 * </ul>
 *
 * <p>Where the moments were not computed at θ_t a step is not checked: it counts as {@code unchecked} and
 * enters neither the window nor S_T (which steps are checked is fixed in advance, so S_T stays a martingale).
 *
 * <p>An alert is raised when its condition starts to hold, and again only after it stopped holding: one alert
 * per episode, not one per step. The formulas are the pure functions of {@link Theorem1} and {@link Theorem2};
 * this class keeps the run's sums and flags in its {@link RunDeviation}, counts outcomes in a {@link Tally} and
 * sets the gauges of watched runs. One per processor; not thread-safe.
 */
final class RunChecks implements RunDeviation.StepReceiver {

    /** Where alerts go (sgd.alerts, the alert log and the alert counter). */
    @FunctionalInterface
    interface Alerts {
        void raise(RunDeviation run, int t, DeviationCheck check, double observed, double bound, String message);
    }

    /** Where a watched run's gauges go. */
    @FunctionalInterface
    interface WatchedGauges {
        void set(RunDeviation run, String name, Tags tags, String description, double value);
    }

    /** Step outcomes counted while a record is processed, added to the experiment's counters once per record. */
    static final class Tally {
        final long[] outcomes = new long[DeviationMeters.Outcome.values().length];
        /** By optimizer (RunDeviation.OPTIMIZER_*) × (held, broken). */
        final long[] supermartingale = new long[6];
        final long[] skipped = new long[DeviationMeters.Skipped.values().length];

        void addTo(DeviationMeters.Experiment meters) {
            for (DeviationMeters.Outcome outcome : DeviationMeters.Outcome.values()) {
                meters.steps(outcome, outcomes[outcome.ordinal()]);
                outcomes[outcome.ordinal()] = 0;
            }
            for (int optimizer = 0; optimizer < 3; optimizer++) {
                meters.supermartingaleSteps(optimizer, true, supermartingale[2 * optimizer]);
                meters.supermartingaleSteps(optimizer, false, supermartingale[2 * optimizer + 1]);
                supermartingale[2 * optimizer] = 0;
                supermartingale[2 * optimizer + 1] = 0;
            }
            for (DeviationMeters.Skipped reason : DeviationMeters.Skipped.values()) {
                meters.skipped(reason, skipped[reason.ordinal()]);
                skipped[reason.ordinal()] = 0;
            }
        }
    }

    /** Why a run diverged, and the bound it crossed (NaN when a value was not finite). */
    record Divergence(String reason, double observed, double bound) {}

    private final DeviationSettings settings;
    private final double exponent;
    private final BinomialTest binomial;
    private static final int MAX_BINOMIAL_PARTS = 4_096;
    /** The (n, k) part of Theorem 1 alert messages, by n << 32 | k (alerts come at k near the critical count of n). */
    private final Map<Long, String> binomialParts = new HashMap<>();
    private final Alerts alerts;
    private final WatchedGauges gauges;
    private final Tally tally = new Tally();

    RunChecks(DeviationSettings settings, Alerts alerts, WatchedGauges gauges) {
        this.settings = settings;
        this.exponent = settings.exponent();
        this.binomial = new BinomialTest(settings.delta(), settings.alertLevel(), settings.window());
        this.alerts = alerts;
        this.gauges = gauges;
    }

    /** The outcomes counted since they were last added to the counters. */
    Tally tally() {
        return tally;
    }

    /**
     * The divergence check of one iteration: a non-finite loss, minibatch loss or ‖g_t‖, or a loss above the
     * factor times the initial loss f(θ_{t₀}) of the earliest iteration t₀ seen. Null when none holds.
     */
    static Divergence divergence(double loss, double minibatchLoss, double sgNorm, double initialLoss, int initialIteration,
                                 double factor) {
        if (!Double.isFinite(loss)) {
            return new Divergence("loss f(θ_t) = " + loss, loss, Double.NaN);
        }
        if (!Double.isFinite(minibatchLoss)) {
            return new Divergence("minibatch loss = " + minibatchLoss, loss, Double.NaN);
        }
        if (!Double.isFinite(sgNorm)) {
            return new Divergence("gradient norm ‖g_t‖ = " + sgNorm, loss, Double.NaN);
        }
        if (initialLoss > 0 && loss > factor * initialLoss) {
            double bound = factor * initialLoss;
            return new Divergence(String.format(ROOT, "loss %.6g is above %s × the initial loss %.6g (t = %d) = %.6g", loss,
                    number(factor), initialLoss, initialIteration, bound), loss, bound);
        }
        return null;
    }

    /** Notes iteration t's loss (the initial loss is the earliest iteration's) and checks it for divergence. */
    void checkDivergence(RunDeviation run, int t, double loss, double minibatchLoss, double sgNorm) {
        if (Double.isFinite(loss) && (run.initialIteration < 0 || t < run.initialIteration)) {
            run.initialLoss = loss;
            run.initialIteration = t;
        }
        if (run.diverged()) {
            return;
        }
        Divergence divergence = divergence(loss, minibatchLoss, sgNorm, run.initialLoss, run.initialIteration,
                settings.divergenceFactor());
        if (divergence != null) {
            run.markDiverged();
            alerts.raise(run, t, DeviationCheck.DIVERGENCE, divergence.observed(), divergence.bound(),
                    String.format(ROOT, "run %s diverged at t = %d: %s", run.runId, t, divergence.reason()));
        }
    }

    /** The step t → t + 1 of a run: Δ_t (Eq. 22) against Theorems 1–3. */
    @Override
    public void step(RunDeviation run, int t, double lossDelta, MomentsAtTheta at) {
        boolean watched = run.watched() && !run.finished();
        Tags tags = watched ? Tags.of(MeterNames.TAG_EXPERIMENT, run.experimentId, MeterNames.TAG_RUN, run.runId) : null;
        if (watched) {
            gauges.set(run, MeterNames.RUN_LOSS_DELTA, tags, "A watched run's latest loss change Δ_t(f) (Eq. 22)", lossDelta);
            gauges.set(run, MeterNames.RUN_STEP_ITERATION, tags, "The iteration t of that step", t);
        }
        if (!Double.isFinite(lossDelta) || at == null) {
            tally.outcomes[DeviationMeters.Outcome.UNCHECKED.ordinal()]++;
            return;
        }
        Theorem1.Interval interval = Theorem1.interval(at);                             // Eq. 27
        checkSupermartingale(run, t, at, interval);
        addToMartingale(run, at, lossDelta, interval);
        if (at.hasAllowance()) {
            Theorem1.Bounds bounds = new Theorem1.Bounds(interval, Theorem1.allowance(at, exponent)); // Eq. 28–29
            boolean exceeded = bounds.exceededBy(lossDelta);
            tally.outcomes[(exceeded ? DeviationMeters.Outcome.EXCEEDED : DeviationMeters.Outcome.INSIDE).ordinal()]++;
            run.pushStep(exceeded);
            boolean significant = binomial.significant(run.exceedances, run.windowFilled);
            if (significant && !run.exceedancesSignificant()) {
                alerts.raise(run, t, DeviationCheck.THEOREM1_INTERVAL, run.exceedances,
                        binomial.criticalCount(run.windowFilled), theorem1Message(run.runId, run.windowFilled, run.exceedances, t, lossDelta, bounds));
            }
            run.exceedancesSignificant(significant);
            if (watched) {
                gauges.set(run, MeterNames.RUN_THEOREM1_THRESHOLD, tags.and(MeterNames.TAG_SIDE, "lower"),
                        "Δ_t below this is an exceedance: Eq. 27's lower end minus the allowance of Eq. 29", bounds.lowerThreshold());
                gauges.set(run, MeterNames.RUN_THEOREM1_THRESHOLD, tags.and(MeterNames.TAG_SIDE, "upper"),
                        "Δ_t above this is an exceedance: Eq. 27's upper end plus the allowance of Eq. 28", bounds.upperThreshold());
                gauges.set(run, MeterNames.RUN_WINDOW_EXCEEDANCES, tags,
                        "Exceedances among the last checked steps of the window", run.exceedances);
            }
        } else {
            tally.outcomes[DeviationMeters.Outcome.UNCHECKED.ordinal()]++;
        }
        if (watched) {
            gauges.set(run, MeterNames.RUN_THEOREM1_INTERVAL, tags.and(MeterNames.TAG_SIDE, "lower"),
                    "Lower end of Eq. 27's interval of E[Δ_t | θ_t]", interval.lower());
            gauges.set(run, MeterNames.RUN_THEOREM1_INTERVAL, tags.and(MeterNames.TAG_SIDE, "upper"),
                    "Upper end of Eq. 27's interval of E[Δ_t | θ_t]", interval.upper());
        }
        checkEnvelope(run, t, watched, tags);
    }

    /** §5.4: −η‖μ‖² + (η²/2) L Tr M ≤ 0 (the upper end of Eq. 27). */
    private void checkSupermartingale(RunDeviation run, int t, MomentsAtTheta at, Theorem1.Interval interval) {
        boolean held = interval.upper() <= 0;
        tally.supermartingale[2 * Math.floorMod(run.optimizer, 3) + (held ? 0 : 1)]++;
        if (run.optimizer != RunDeviation.OPTIMIZER_ADAPTIVE) {
            return;
        }
        if (!held && !run.supermartingaleBroken()) {
            double largest = Theorem1.largestSupermartingaleStep(at.gradNormSq(), at.hessianNorm(), at.traceM());
            alerts.raise(run, t, DeviationCheck.SUPERMARTINGALE, at.stepSize(), largest, String.format(ROOT,
                    "run %s (optimizer %s, adaptive step) breaks the super-martingale condition at t = %d: "
                            + "−η‖μ‖² + (η²/2) L Tr M = %.6g > 0 (§5.4, Thm 3) with step size η_t = %.6g; it must stay "
                            + "≤ 2‖μ‖²/(L Tr M) = %.6g (‖μ‖² = %.6g, L = %.6g, Tr M = %.6g)",
                    run.runId, run.optimizerName, t, interval.upper(), at.stepSize(), largest, at.gradNormSq(),
                    at.hessianNorm(), at.traceM()));
        }
        run.supermartingaleBroken(!held);
    }

    /** S_T += Δ_t − ê_t, B_T += (η²/2) L Tr M; the running maxima of Thm 2's constants. */
    private static void addToMartingale(RunDeviation run, MomentsAtTheta at, double lossDelta, Theorem1.Interval interval) {
        run.martingale += lossDelta - interval.midpoint();
        run.biasAllowance += interval.halfWidth();
        run.terms++;
        run.maxStepSize = Math.max(run.maxStepSize, at.stepSize());
        run.maxGradNorm = Math.max(run.maxGradNorm, Math.sqrt(at.gradNormSq()));
        run.maxHessianNorm = Math.max(run.maxHessianNorm, at.hessianNorm());
        if (at.batchSize() > 0) {
            run.minBatchSize = Math.min(run.minBatchSize, at.batchSize());
        }
        if (Double.isFinite(at.sigmaSpectral())) {
            run.maxSigmaSpectral = Double.isNaN(run.maxSigmaSpectral)
                    ? at.sigmaSpectral() : Math.max(run.maxSigmaSpectral, at.sigmaSpectral());
        }
    }

    /** Thm 2: |S_T| against K₂ max(√(8Tx), 2x) (Eq. 32–33) plus B_T. */
    private void checkEnvelope(RunDeviation run, int t, boolean watched, Tags tags) {
        if (run.parameterCount <= 0 || Double.isNaN(run.maxSigmaSpectral) || run.minBatchSize == Integer.MAX_VALUE) {
            return; // K₂ needs p (RunStarted), ‖Σ‖₂ and m
        }
        double k2 = Theorem2.k2(run.maxStepSize, run.maxGradNorm, run.maxSigmaSpectral, run.maxHessianNorm,
                run.maxGradNorm, run.minBatchSize, run.parameterCount);                  // Eq. 33
        double azuma = Theorem2.envelope(k2, run.terms, exponent);                       // Eq. 32
        double envelope = azuma + run.biasAllowance;
        boolean outside = Math.abs(run.martingale) > envelope;
        if (outside && !run.outsideEnvelope()) {
            alerts.raise(run, t, DeviationCheck.AZUMA_BERNSTEIN, Math.abs(run.martingale), envelope, String.format(ROOT,
                    "run %s: the cumulative martingale |S_T| = |Σ(Δ_t − ê_t)| = %.6g over T = %d checked steps (to t = %d) "
                            + "left the Azuma–Bernstein envelope %.6g (Thm 2, Eq. 32–33: K₂ = %.6g, δ = %s, c = %s, "
                            + "K₂·max(√(8Tx), 2x) = %.6g, plus %.6g for ê_t = −η‖μ‖² missing E[Δ_t | θ_t] by at most "
                            + "(η²/2) L Tr M per step)",
                    run.runId, Math.abs(run.martingale), run.terms, t, envelope, k2, number(settings.delta()),
                    number(settings.c()), azuma, run.biasAllowance));
        }
        run.outsideEnvelope(outside);
        if (watched) {
            gauges.set(run, MeterNames.RUN_MARTINGALE, tags, "S_T = Σ(Δ_t − ê_t) over the checked steps (Sec. 5.3)", run.martingale);
            gauges.set(run, MeterNames.RUN_MARTINGALE_ENVELOPE, tags,
                    "The Azuma–Bernstein envelope of Thm 2 (Eq. 32–33) plus the bias allowance of ê_t", envelope);
        }
    }

    /** The THEOREM1_INTERVAL alert's message: k of the last n checked steps exceeded, the latest at t. */
    String theorem1Message(String runId, int n, int k, int t, double lossDelta, Theorem1.Bounds bounds) {
        // The middle depends on (n, k) only: made once per pair (an ensemble can raise thousands of these at once).
        if (binomialParts.size() > MAX_BINOMIAL_PARTS) {
            binomialParts.clear();
        }
        String binomialPart = binomialParts.computeIfAbsent((long) n << 32 | k, key -> String.format(ROOT,
                "%.2f expected at δ = %s (P[Bin(%d, %s) ≥ %d] = %.3g ≤ α = %s; c = %s)", settings.delta() * n,
                number(settings.delta()), n, number(settings.delta()), k, binomial.pValue(k, n), number(settings.alertLevel()),
                number(settings.c())));
        return "run " + runId + ": " + k + " of the last " + n + " checked steps left the Theorem 1 interval plus "
                + "deviation allowance, " + binomialPart + String.format(ROOT, "; the latest at t = %d: Δ_t = %.6g outside "
                        + "[%.6g, %.6g] (Eq. 27's interval [%.6g, %.6g] widened by s = %.6g below and %.6g above, Eq. 28–29)",
                t, lossDelta, bounds.lowerThreshold(), bounds.upperThreshold(), bounds.interval().lower(),
                bounds.interval().upper(), bounds.allowance().below(), bounds.allowance().above());
    }

    static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e6 ? String.valueOf((long) value) : String.valueOf(value);
    }
}
