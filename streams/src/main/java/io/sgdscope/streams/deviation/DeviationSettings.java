package io.sgdscope.streams.deviation;

import java.time.Duration;

/**
 * What the deviation app checks, and how strictly. Validated on construction; every message is one line.
 *
 * @param delta δ, the confidence of Theorem 1's allowance and Theorem 2's envelope: each step exceeds the
 *              interval ± allowance with probability at most δ (default 0.01; docs/deviation-checks.md)
 * @param c the absolute constant c of Eq. 28–29 and 32 (the paper leaves it open; default 1)
 * @param window the exceedance window: the last this many checked steps of a run
 * @param alertLevel α of the one-sided binomial test: an alert when P[Bin(n, δ) ≥ exceedances] ≤ α (and
 *                   at least two exceedances)
 * @param divergenceFactor a run whose loss exceeds this factor times its initial loss has diverged
 * @param watchedRuns runs per experiment with series of their own: RunStarted.runIndex below this
 * @param finishWait how long (wall clock of the app) a RunFinished processed before all the iterations it says were
 *                   published waits for them before the run is finished anyway (iterations are read in place, RunFinished
 *                   crosses a repartition topic, so it can overtake them, e.g. while a partition leader moves; records the
 *                   trainer dropped never come); 0 = finish at once, whatever has arrived
 */
public record DeviationSettings(double delta, double c, int window, double alertLevel, double divergenceFactor,
                                int watchedRuns, Duration finishWait) {

    public static final double DEFAULT_DELTA = 0.01;
    public static final double DEFAULT_C = 1.0;
    public static final int DEFAULT_WINDOW = 100;
    public static final double DEFAULT_ALERT_LEVEL = 0.001;
    public static final double DEFAULT_DIVERGENCE_FACTOR = 10.0;
    public static final int DEFAULT_WATCHED_RUNS = 10;
    public static final Duration DEFAULT_FINISH_WAIT = Duration.ofMinutes(5);

    public DeviationSettings {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in (0, 1), was " + delta);
        }
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("c must be a positive number, was " + c);
        }
        if (window < 2 || window > 100_000) {
            throw new IllegalArgumentException("the exceedance window must be 2..100000 checked steps, was " + window);
        }
        if (!(alertLevel > 0 && alertLevel < 1)) {
            throw new IllegalArgumentException("the alert level must be in (0, 1), was " + alertLevel);
        }
        if (!(divergenceFactor > 1) || Double.isInfinite(divergenceFactor)) {
            throw new IllegalArgumentException("the divergence factor must be a number above 1, was " + divergenceFactor);
        }
        if (watchedRuns < 0 || watchedRuns > 1_000) {
            throw new IllegalArgumentException("watched runs must be in 0..1000 per experiment (each has series of its own), was "
                    + watchedRuns);
        }
        if (finishWait == null || finishWait.isNegative() || finishWait.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("the finish wait must be in 0 s (finish at once) .. 1 day, was "
                    + (finishWait == null ? null : finishWait.toMillis() + " ms"));
        }
    }

    /** The settings with the default finish wait, 5 minutes. */
    public DeviationSettings(double delta, double c, int window, double alertLevel, double divergenceFactor, int watchedRuns) {
        this(delta, c, window, alertLevel, divergenceFactor, watchedRuns, DEFAULT_FINISH_WAIT);
    }

    public static DeviationSettings defaults() {
        return new DeviationSettings(DEFAULT_DELTA, DEFAULT_C, DEFAULT_WINDOW, DEFAULT_ALERT_LEVEL, DEFAULT_DIVERGENCE_FACTOR,
                DEFAULT_WATCHED_RUNS, DEFAULT_FINISH_WAIT);
    }

    /** x = ln(2/δ)/c (see {@link Theorem1#exponent}). */
    public double exponent() {
        return Theorem1.exponent(delta, c);
    }

    public DeviationSettings withWindow(int newWindow, double newAlertLevel) {
        return new DeviationSettings(delta, c, newWindow, newAlertLevel, divergenceFactor, watchedRuns, finishWait);
    }

    public DeviationSettings withConfidence(double newDelta, double newC) {
        return new DeviationSettings(newDelta, newC, window, alertLevel, divergenceFactor, watchedRuns, finishWait);
    }

    public DeviationSettings withDivergenceFactor(double newFactor) {
        return new DeviationSettings(delta, c, window, alertLevel, newFactor, watchedRuns, finishWait);
    }

    public DeviationSettings withWatchedRuns(int newWatchedRuns) {
        return new DeviationSettings(delta, c, window, alertLevel, divergenceFactor, newWatchedRuns, finishWait);
    }

    public DeviationSettings withFinishWait(Duration newFinishWait) {
        return new DeviationSettings(delta, c, window, alertLevel, divergenceFactor, watchedRuns, newFinishWait);
    }
}
