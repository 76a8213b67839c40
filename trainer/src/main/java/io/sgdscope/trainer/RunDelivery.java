package io.sgdscope.trainer;

import io.sgdscope.client.Delivery;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import java.time.Duration;

/** How long a run waits for the broker to acknowledge its records, and the confirmed delivery of its RunFinished. */
final class RunDelivery {

    /** How long a checkpoint waits for the delivery of the records it covers, and a RunFinished for its own. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private RunDelivery() {}

    /**
     * Waits for the run's RunFinished to be acknowledged and then forgets it; one that failed, or was not acknowledged
     * in time, stays in the store and {@code --resume} sends it again.
     *
     * @return whether it was delivered
     */
    static boolean confirmFinished(TelemetrySink sink, CheckpointStore store, String runId) {
        Delivery delivery = sink.finishedDelivery(runId);
        if (delivery.await(TIMEOUT) && !delivery.failed()) {
            store.clearUnsent(runId);
            return true;
        }
        return false;
    }
}
