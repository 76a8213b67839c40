package io.sgdscope.trainer.checkpoint;

import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.optim.OptimizerState;
import java.util.Map;
import java.util.Objects;

/**
 * The state of one run between two iterations: everything its next iterations depend on, so that a run
 * continued from it trains, and publishes, exactly what it would have without stopping (float64 values,
 * stored bit for bit).
 *
 * <p>The minibatch sampler is kept as its position in its random stream (the stream itself is a function of
 * the run's seed): a resumed sampler replays that many draws, which costs microseconds per thousand batches
 * and reproduces the generator's state exactly. theta_0 (the prior mean of Corollary 4) is drawn again from
 * the seed. The previous gradient g_{t-1} is kept for cos(g_t, g_{t-1}).
 *
 * @param runStarted     the RunStarted the run published first; a resumed run publishes it again, unchanged
 * @param finished       how the run ended, or null while it can still be continued
 * @param nextIteration  t of the next iteration to train (for a finished run: where it stopped)
 * @param published      iteration records handed to the telemetry sink, and delivered, so far
 * @param droppedRecords iteration and spectrum records the sink dropped up to this checkpoint
 * @param elapsedSeconds training wall time so far, over every process that trained the run
 * @param batchesDrawn   minibatches the run's sampler has drawn
 * @param theta          theta at {@code nextIteration}, length p
 * @param previousGradient g_{nextIteration - 1}, length p, or empty at t = 0
 * @param previousNorm   ||g_{nextIteration - 1}||
 * @param latestL        the latest known L = max |lambda(H_f)|, NaN if none yet
 * @param probe          the curvature probe's warm starts
 * @param optimizer      the optimizer's moving averages and counters
 */
public record RunCheckpoint(RunStarted runStarted, RunStatus finished, int nextIteration, int published,
                            long droppedRecords, double elapsedSeconds, long batchesDrawn, double[] theta,
                            double[] previousGradient, double previousNorm, double latestL, SpectrumProbe.State probe,
                            OptimizerState optimizer) {

    public RunCheckpoint {
        Objects.requireNonNull(runStarted, "runStarted");
        Objects.requireNonNull(theta, "theta");
        Objects.requireNonNull(previousGradient, "previousGradient");
        Objects.requireNonNull(probe, "probe");
        Objects.requireNonNull(optimizer, "optimizer");
    }

    public String runId() {
        return runStarted.getRunId();
    }

    public int runIndex() {
        return runStarted.getRunIndex();
    }

    /** Whether the run ended (it published its RunFinished): a resume skips it. */
    public boolean isFinished() {
        return finished != null;
    }

    /** The same state marked as ended with {@code status}. */
    public RunCheckpoint finishedAs(RunStatus status) {
        return new RunCheckpoint(runStarted, status, nextIteration, published, droppedRecords, elapsedSeconds, batchesDrawn,
                theta, previousGradient, previousNorm, latestL, probe, optimizer);
    }

    /**
     * A marker that the run finished, without its state (a run that failed: its state may be half-updated). A
     * resume only needs to know that the run is done.
     */
    public static RunCheckpoint marker(RunStarted runStarted, int published) {
        return new RunCheckpoint(runStarted, null, published, published, 0, 0, 0, new double[0], new double[0], 0,
                Double.NaN, new SpectrumProbe.State(0, null, null, null, null, null), new OptimizerState("none", Map.of(),
                Map.of()));
    }

    /** The same state with the training time known at the end. */
    public RunCheckpoint withElapsedSeconds(double seconds) {
        return new RunCheckpoint(runStarted, finished, nextIteration, published, droppedRecords, seconds, batchesDrawn,
                theta, previousGradient, previousNorm, latestL, probe, optimizer);
    }

    /** The same state with the dropped-record count known once its records were delivered. */
    public RunCheckpoint withDroppedRecords(long dropped) {
        return new RunCheckpoint(runStarted, finished, nextIteration, published, dropped, elapsedSeconds, batchesDrawn,
                theta, previousGradient, previousNorm, latestL, probe, optimizer);
    }
}
