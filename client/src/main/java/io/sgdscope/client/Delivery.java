package io.sgdscope.client;

import java.time.Duration;

/**
 * Whether the records a run had handed to a sink at some moment have reached their destination (acknowledged,
 * or failed for good and counted as dropped): what a checkpoint waits for before it may claim that those
 * iterations were published ({@link TelemetrySink#delivery}).
 */
public interface Delivery {

    /** Nothing to wait for (in-memory sinks; a run that published nothing yet). */
    Delivery DONE = new Delivery() {
        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public boolean await(Duration timeout) {
            return true;
        }
    };

    /** True once every record handed over before this marker was made is delivered or failed; never blocks. */
    boolean isDone();

    /**
     * Waits until {@link #isDone()}, at most {@code timeout}.
     *
     * @return whether it is done (false after the timeout, or when interrupted: the flag is kept)
     */
    boolean await(Duration timeout);

    /** True when it is done and a record failed for good (not delivered); false while not done. */
    default boolean failed() {
        return false;
    }
}
