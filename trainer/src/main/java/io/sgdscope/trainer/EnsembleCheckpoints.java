package io.sgdscope.trainer;

import io.sgdscope.client.Delivery;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The checkpoints of an {@link EnsembleBlock}'s runs: one {@link RunCheckpoint} per run in the per-run engine's
 * file ({@link CheckpointStore}, {@code <dir>/<experimentId>/<runId>.ckpt}, the same format), written with the
 * per-run engine's rules ({@code TrainingRun}, in the tests): after every {@code checkpoint-every} iterations the block captures
 * the state of every run still going, and writes each run's file once the broker has acknowledged that run's
 * records up to there (the frames it is in: {@link TelemetrySink#delivery}), at a later iteration, or waiting for it
 * at the next due checkpoint; a cancelled run waits for its records and then saves the state it stopped at, and is
 * suspended (no RunFinished); a run that ends keeps its RunFinished until delivered ({@link CheckpointStore#writeUnsent})
 * and leaves a finished marker, so that {@code --resume} skips it. Not thread-safe: one per block.
 */
final class EnsembleCheckpoints {

    /** A checkpoint taken after an iteration, written once the broker has acknowledged the records it covers. */
    private record Pending(RunCheckpoint checkpoint, Delivery delivery, long earlierDropped) {}

    private final TrainerSettings settings;
    private final CheckpointStore store;
    private final TelemetrySink sink;
    private List<Pending> pending = List.of();

    EnsembleCheckpoints(TrainerSettings settings, CheckpointStore store, TelemetrySink sink) {
        this.settings = settings;
        this.store = store;
        this.sink = sink;
    }

    /**
     * A run's state and the records it had dropped before this process.
     *
     * @param checkpoint     the state (copies)
     * @param earlierDropped records dropped in earlier processes
     */
    record Capture(RunCheckpoint checkpoint, long earlierDropped) {}

    /**
     * After iteration t: writes the pending checkpoints whose records are delivered, and captures new ones when one is
     * due (waiting for the previous ones only if they are still not delivered by then). Never writes a checkpoint
     * that claims records the broker may not have.
     */
    void afterIteration(int t, Supplier<List<Capture>> capture) {
        List<Pending> left = new ArrayList<>();
        for (Pending p : pending) {
            if (p.delivery().isDone()) {
                write(p.checkpoint(), p.earlierDropped());
            } else {
                left.add(p);
            }
        }
        pending = left;
        if (!settings.checkpoint().dueAfter(t) || t + 1 >= settings.iterations()) {
            return;
        }
        for (Pending p : pending) {
            if (p.delivery().await(RunDelivery.TIMEOUT)) {
                write(p.checkpoint(), p.earlierDropped());
            }
        }
        left = new ArrayList<>();
        for (Capture c : capture.get()) {
            Delivery delivery = sink.delivery(c.checkpoint().runId());
            if (delivery.isDone()) {
                write(c.checkpoint(), c.earlierDropped());                  // nothing in flight (an in-memory sink)
            } else {
                left.add(new Pending(c.checkpoint(), delivery, c.earlierDropped()));
            }
        }
        pending = left;
    }

    /**
     * A cancelled run: once the records it published are delivered, saves its state at the iteration it stopped
     * before. If they are not delivered in time, no new checkpoint is written (the last one stays: a resume publishes
     * some iterations twice rather than skip any).
     */
    void suspend(Capture state) {
        pending = pending.stream().filter(p -> !p.checkpoint().runId().equals(state.checkpoint().runId())).toList();
        if (sink.delivery(state.checkpoint().runId()).await(RunDelivery.TIMEOUT)) {
            write(state.checkpoint(), state.earlierDropped());
        }
    }

    /** Before a run's RunFinished is handed to the sink: kept until its delivery is confirmed. */
    void finishing(RunFinished finished) {
        store.writeUnsent(finished);
    }

    /**
     * After a run's RunFinished: its pending checkpoint is dropped, the finished marker written (a crash in between
     * makes {@code --resume} train the rest again, published twice and dropped downstream, never lose the
     * RunFinished), and the RunFinished's delivery awaited.
     */
    void finished(RunStarted started, int published, RunStatus status, long dropped, double seconds) {
        String runId = started.getRunId();
        pending = pending.stream().filter(p -> !p.checkpoint().runId().equals(runId)).toList();
        store.write(RunCheckpoint.marker(started, published).finishedAs(status).withDroppedRecords(dropped)
                .withElapsedSeconds(seconds));
        RunDelivery.confirmFinished(sink, store, runId);
    }

    private void write(RunCheckpoint checkpoint, long earlierDropped) {
        store.write(checkpoint.withDroppedRecords(earlierDropped + sink.droppedRecords(checkpoint.runId())));
    }
}
