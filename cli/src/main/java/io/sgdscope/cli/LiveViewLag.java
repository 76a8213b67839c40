package io.sgdscope.cli;

import io.sgdscope.streams.quantiles.ExperimentStatus;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.LongSupplier;

/**
 * How far the live view (the quantiles app's frontier of the experiment, as {@code ExperimentStatuses}
 * reports it) was behind the trainer when training ended: in iterations (the last iteration trained
 * minus the frontier at that moment) and in seconds (from the end of training until the frontier
 * first reached the last iteration trained, as seen by {@link #observe}). Not thread-safe: one thread
 * records the end of training and then observes.
 */
final class LiveViewLag {

    private final LongSupplier nanoClock;
    private final int lastTrainedIteration;
    private final int frontierAtEnd;
    private final long endNanos;
    private long caughtUpNanos;
    private boolean caughtUp;

    private LiveViewLag(LongSupplier nanoClock, int lastTrainedIteration, int frontierAtEnd) {
        this.nanoClock = nanoClock;
        this.lastTrainedIteration = lastTrainedIteration;
        this.frontierAtEnd = frontierAtEnd;
        this.endNanos = nanoClock.getAsLong();
        if (frontierAtEnd >= lastTrainedIteration) {
            caughtUp = true;
            caughtUpNanos = endNanos;
        }
    }

    /**
     * Records the moment training ended.
     *
     * @param lastTrainedIteration the deepest iteration any run reached (-1 if none trained)
     * @param status the experiment's status at that moment (empty: the quantiles app has not seen it yet)
     * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime})
     */
    static LiveViewLag atEndOfTraining(int lastTrainedIteration, Optional<ExperimentStatus> status, LongSupplier nanoClock) {
        return new LiveViewLag(nanoClock, lastTrainedIteration, frontierOf(status));
    }

    /** Looks at the frontier again: the first time it is at or past the last iteration trained is the catch-up time. */
    void observe(Optional<ExperimentStatus> status) {
        if (!caughtUp && frontierOf(status) >= lastTrainedIteration) {
            caughtUp = true;
            caughtUpNanos = nanoClock.getAsLong();
        }
    }

    /** The frontier when training ended (-1 when the quantiles app had not placed one). */
    int frontierAtEnd() {
        return frontierAtEnd;
    }

    int lastTrainedIteration() {
        return lastTrainedIteration;
    }

    /** Last iteration trained minus the frontier at the end of training; never negative. */
    int iterationsBehind() {
        return Math.max(0, lastTrainedIteration - frontierAtEnd);
    }

    /** Seconds from the end of training until the frontier reached the last iteration; empty if it has not (yet). */
    OptionalDouble secondsToCatchUp() {
        return caughtUp ? OptionalDouble.of((caughtUpNanos - endNanos) / 1e9) : OptionalDouble.empty();
    }

    /**
     * The demo's summary line, e.g. {@code Live view: bands at iteration 321 of 399 when training ended
     * (78 iterations behind), caught up 14.2 s later}.
     */
    String summaryLine() {
        String position = frontierAtEnd < 0 ? "no bands yet" : "bands at iteration " + frontierAtEnd + " of " + lastTrainedIteration;
        int behind = iterationsBehind();
        OptionalDouble seconds = secondsToCatchUp();
        String catchUp;
        if (seconds.isPresent()) {
            catchUp = String.format(Locale.ROOT, "caught up %.1f s later", seconds.getAsDouble());
        } else {
            catchUp = String.format(Locale.ROOT, "not caught up %.1f s later", (nanoClock.getAsLong() - endNanos) / 1e9);
        }
        return "Live view: " + position + " when training ended (" + behind + (behind == 1 ? " iteration" : " iterations")
                + " behind), " + catchUp;
    }

    private static int frontierOf(Optional<ExperimentStatus> status) {
        return status.map(ExperimentStatus::frontierIteration).orElse(-1);
    }
}
