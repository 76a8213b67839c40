package io.sgdscope.streams.deviation;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;

/**
 * One iteration of a block of runs: a frame's columns against the block's state, run by run, without an object
 * per run: duplicates and late records are counted and skipped, each new iteration is checked for divergence
 * and paired with its neighbours, and the steps it completes go to the {@link RunChecks}. A per-run record is a
 * frame of one run and takes the same path. Not thread-safe; one per processor.
 */
final class BlockStep {

    /** Told when a run whose RunFinished was waiting has all the iterations it said were published. */
    @FunctionalInterface
    interface Arrivals {
        void allArrived(RunDeviation run);
    }

    private final RunChecks checks;
    private final int window;

    BlockStep(RunChecks checks, int window) {
        this.checks = checks;
        this.window = window;
    }

    /** Applies the frame (iteration t ≥ 0 of some of the block's runs) to the block. */
    void apply(BlockDeviation block, Frame frame, Arrivals arrivals) {
        int t = frame.iteration();
        String experimentId = frame.experimentId();
        double[] loss = frame.column(FrameColumn.LOSS);
        double[] minibatchLoss = frame.column(FrameColumn.MINIBATCH_LOSS);
        double[] sgNorm = frame.column(FrameColumn.SG_NORM);
        double[] stepSize = frame.column(FrameColumn.STEP_SIZE);
        double[] batchSize = frame.column(FrameColumn.BATCH_SIZE);
        // The moments and L: NaN where a run did not compute them (Frame.column holds NaN there), null where none did.
        double[] gradNormSq = frame.column(FrameColumn.GRAD_NORM_SQ);
        double[] traceM = frame.column(FrameColumn.TRACE_M);
        double[] hessianNorm = frame.column(FrameColumn.HESSIAN_SPECTRAL_NORM);
        double[] sigmaHalfMuNorm = frame.column(FrameColumn.SIGMA_HALF_MU_NORM);
        double[] sigmaFrobenius = frame.column(FrameColumn.SIGMA_FROBENIUS);
        double[] sigmaSpectral = frame.column(FrameColumn.SIGMA_SPECTRAL);
        long[] skipped = checks.tally().skipped;
        boolean aligned = true;
        for (int i = 0; i < frame.size(); i++) {
            String runId = frame.runId(i);
            RunDeviation run;
            if (block.inColumn(i, runId)) {
                run = block.run(i);
            } else {
                run = block.run(runId, experimentId, window);
                aligned = false;
            }
            if (run.finished()) {
                skipped[DeviationMeters.Skipped.LATE.ordinal()]++;
                continue;
            }
            if (run.iterations.contains(t)) {
                skipped[DeviationMeters.Skipped.DUPLICATE.ordinal()]++;
                continue;
            }
            checks.checkDivergence(run, t, loss[i], minibatchLoss[i], sgNorm[i]);
            run.addIteration(t, loss[i], stepSize[i], (int) batchSize[i], at(gradNormSq, i), at(traceM, i),
                    at(hessianNorm, i), at(sigmaHalfMuNorm, i), at(sigmaFrobenius, i), at(sigmaSpectral, i), checks);
            if (run.awaitedIterations >= 0 && run.arrivedBelow(run.awaitedIterations)) {
                arrivals.allArrived(run);
            }
        }
        if (!aligned) {
            block.alignTo(frame); // once: the next frames find their runs in place
        }
    }

    private static double at(double[] column, int run) {
        return column == null ? Double.NaN : column[run];
    }
}
