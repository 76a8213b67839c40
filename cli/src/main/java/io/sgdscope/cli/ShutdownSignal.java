package io.sgdscope.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C / SIGTERM handling: on the signal, {@code onSignal} runs (e.g. cancel the experiment) and the
 * JVM waits, bounded, until the command has cleaned up ({@link #close()}: producer flushed, streams
 * closed, broker stopped), so that nothing already produced is lost.
 */
final class ShutdownSignal implements AutoCloseable {

    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(45);

    private final CountDownLatch requested = new CountDownLatch(1);
    private final CountDownLatch cleanedUp = new CountDownLatch(1);
    private final Thread hook;

    ShutdownSignal(Runnable onSignal) {
        hook = new Thread(() -> {
            requested.countDown();
            onSignal.run();
            try {
                cleanedUp.await(CLEANUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sgdscope-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    boolean isRequested() {
        return requested.getCount() == 0;
    }

    /** Blocks until Ctrl-C or SIGTERM. */
    void await() throws InterruptedException {
        requested.await();
    }

    /** Blocks until Ctrl-C or SIGTERM, or until the timeout passes: true if the signal came. */
    boolean await(Duration timeout) throws InterruptedException {
        return requested.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The command has cleaned up: let a pending shutdown proceed, or forget the hook. */
    @Override
    public void close() {
        cleanedUp.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already shutting down: the hook is running and now returns.
        }
    }
}
