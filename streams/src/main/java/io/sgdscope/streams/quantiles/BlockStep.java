package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.streams.deviation.Theorem1;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.StepPairing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The per-run step of the quantiles app, column by column: one frame (iteration t of a block's runs, or of
 * one run) against the block's {@link RunBlock}. Each run's (run, t) is counted once (duplicates and
 * records of finished runs are skipped), the tracked columns go into the batch of (experiment, t) in bulk
 * for the runs that count, t is paired with its neighbours for Δ_t(f) = f(θ_{t+1}) − f(θ_t) (Eq. 22), and
 * the rolling windows of watched runs are updated. No per-run record is made. Per-run records go through
 * the same code as frames of one run.
 *
 * <p>Not thread-safe; one per processor. The result of {@link #apply} is valid until the next call.
 */
final class BlockStep {

    /** What one frame did: which of its runs counted, were duplicates or late. Reused from frame to frame. */
    static final class Outcome {
        /** By column: true where the run did not count (duplicate, or late); valid for [0, size). */
        boolean[] skipped = new boolean[0];
        /** By column: true where this was the run's first counted iteration. */
        boolean[] first = new boolean[0];
        int size;
        int counted;
        int duplicates;
        int late;

        private void reset(int runs) {
            if (skipped.length < runs) {
                skipped = new boolean[runs];
                first = new boolean[runs];
            } else {
                Arrays.fill(skipped, 0, runs, false);
                Arrays.fill(first, 0, runs, false);
            }
            size = runs;
            counted = 0;
            duplicates = 0;
            late = 0;
        }
    }

    /** A tracked metric read from a frame column. */
    private record ColumnMetric(String name, FrameColumn column) {}

    private final QuantilesSettings settings;
    private final Batches batches;
    private final List<ColumnMetric> columnMetrics = new ArrayList<>();
    private final boolean supermartingaleTracked;
    private final List<TrackedMetric> spectrumMetrics = new ArrayList<>();
    private final boolean lossDeltaTracked;
    private final List<TrackedMetric> rollingMetrics;
    private final boolean rollingLossDelta;
    private final Outcome outcome = new Outcome();

    // The step being paired (set before each StepPairing.add, read by onStep).
    private RunState pairing;
    private int frameIteration;
    private double[] deltasOfPrevious = new double[0];
    private int deltaCount;
    private final StepPairing.StepSink<Boolean> onStep = this::onStep;
    private double[] derived = new double[0];
    private boolean[] derivedMissing = new boolean[0];

    BlockStep(QuantilesSettings settings, Batches batches) {
        this.settings = settings;
        this.batches = batches;
        boolean supermartingale = false;
        for (String name : settings.metrics()) {
            TrackedMetric metric = TrackedMetric.named(name);
            if (metric.column() != null) {
                columnMetrics.add(new ColumnMetric(name, metric.column()));
            } else if (metric.source() == TrackedMetric.Source.DERIVED) {
                supermartingale = true;
            } else if (metric.source() == TrackedMetric.Source.SPECTRUM) {
                spectrumMetrics.add(metric);
            }
        }
        this.supermartingaleTracked = supermartingale;
        this.lossDeltaTracked = settings.metrics().contains(TrackedMetric.LOSS_DELTA);
        this.rollingMetrics = settings.watchedRuns() == 0 ? List.of()
                : settings.rollingMetrics().stream().map(TrackedMetric::named).toList();
        this.rollingLossDelta = settings.watchedRuns() > 0 && settings.rollingMetrics().contains(TrackedMetric.LOSS_DELTA);
    }

    /**
     * Counts the frame's runs into the block and their values into the batches.
     *
     * @param positions the block position of each of the frame's runs, in column order
     */
    Outcome apply(RunBlock block, Frame frame, int[] positions) {
        int n = frame.size();
        int t = frame.iteration();
        outcome.reset(n);
        boolean anyWatched = false;
        for (int i = 0; i < n; i++) {
            RunState run = block.run(positions[i]);
            if (run.finished()) {
                outcome.skipped[i] = true;
                outcome.late++;
                continue;
            }
            boolean first = run.iterations().isEmpty();
            if (!run.iterations().add(t)) {
                outcome.skipped[i] = true;
                outcome.duplicates++;
                continue;
            }
            outcome.first[i] = first;
            outcome.counted++;
            anyWatched |= run.watched();
        }
        if (outcome.counted == 0) {
            return outcome;
        }
        String experimentId = block.experimentId();
        boolean[] skipped = outcome.counted == n ? null : outcome.skipped;
        PartialValues batch = batches.batch(experimentId, t);
        batch.countRecords(outcome.counted);
        for (ColumnMetric metric : columnMetrics) {
            double[] values = frame.column(metric.column());
            if (values != null) {
                batch.addColumn(metric.name(), values, frame.missing(metric.column()), skipped, n);
            }
        }
        if (supermartingaleTracked && supermartingaleHeld(frame)) {
            batch.addColumn(TrackedMetric.SUPERMARTINGALE_HELD, derived, derivedMissing, skipped, n);
        }
        if (lossDeltaTracked || anyWatched) {
            pairLosses(block, frame, positions);
        }
        if (anyWatched) {
            for (int i = 0; i < n; i++) {
                RunState run = block.run(positions[i]);
                if (!outcome.skipped[i] && run.watched()) {
                    addToRollingWindows(run, frame, i);
                }
            }
        }
        return outcome;
    }

    /** Pairs t with its neighbours for every counted run that needs Δ_t (Eq. 22); the usual Δ_{t−1} go in as one column. */
    private void pairLosses(RunBlock block, Frame frame, int[] positions) {
        int n = frame.size();
        frameIteration = frame.iteration();
        if (deltasOfPrevious.length < n) {
            deltasOfPrevious = new double[n];
        }
        deltaCount = 0;
        double[] losses = frame.column(FrameColumn.LOSS);
        for (int i = 0; i < n; i++) {
            if (outcome.skipped[i]) {
                continue;
            }
            RunState run = block.run(positions[i]);
            if (lossDeltaTracked || run.watched()) {
                pairing = run;
                run.losses().add(frameIteration, losses[i], Boolean.TRUE, run.iterations(), onStep);
            }
        }
        pairing = null;
        if (deltaCount > 0) {
            PartialValues previous = batches.batch(block.experimentId(), frameIteration - 1);
            previous.countRecords(deltaCount);
            previous.addColumn(TrackedMetric.LOSS_DELTA, deltasOfPrevious, null, null, deltaCount);
        }
    }

    /** A completed step t → t + 1 of the run being paired. */
    private void onStep(StepPairing.Step<Boolean> step) {
        double lossDelta = step.lossDelta(); // Eq. 22
        if (lossDeltaTracked) {
            if (step.iteration() == frameIteration - 1) {
                deltasOfPrevious[deltaCount++] = lossDelta;
            } else {
                PartialValues batch = batches.batch(pairing.experimentId(), step.iteration());
                batch.countRecord();
                batch.add(TrackedMetric.LOSS_DELTA, lossDelta);
            }
        }
        if (rollingLossDelta && pairing.watched()) {
            pairing.rolling(TrackedMetric.LOSS_DELTA, settings.rollingWindow()).add(step.iteration(), lossDelta);
        }
    }

    /**
     * Closes the run's last step T − 1 → T with f(θ_T) from its RunFinished (see
     * {@code RunInput.Finished#lossAfterLastIteration}); the caller has added T to the run's iterations.
     */
    void closeLastStep(RunState run, int end, double lossAfter) {
        frameIteration = Integer.MIN_VALUE; // no column of Δ here: each step goes in alone
        pairing = run;
        run.losses().add(end, lossAfter, null, run.iterations(), onStep);
        pairing = null;
    }

    /** Counts a snapshot's tracked scalars into the batch of its iteration (the caller has counted the snapshot once). */
    void addSpectrum(String experimentId, RunInput.Spectrum snapshot) {
        if (spectrumMetrics.isEmpty()) {
            return;
        }
        PartialValues batch = batches.batch(experimentId, snapshot.iteration());
        batch.countRecord();
        for (TrackedMetric metric : spectrumMetrics) {
            Double value = metric.valueOf(snapshot);
            if (value != null) {
                batch.add(metric.name(), value);
            }
        }
    }

    /**
     * The column of {@value TrackedMetric#SUPERMARTINGALE_HELD}: 1 where −η‖μ‖² + (η²/2) L Tr M ≤ 0 at θ_t
     * (§5.4, the upper end of Eq. 27's interval), 0 where not, missing where the run has no moments.
     *
     * @return false if no run of the frame has the moments
     */
    private boolean supermartingaleHeld(Frame frame) {
        double[] gradNormSq = frame.column(FrameColumn.GRAD_NORM_SQ);
        double[] traceM = frame.column(FrameColumn.TRACE_M);
        double[] hessianNorm = frame.column(FrameColumn.HESSIAN_SPECTRAL_NORM);
        if (gradNormSq == null || traceM == null || hessianNorm == null) {
            return false;
        }
        int n = frame.size();
        if (derived.length < n) {
            derived = new double[n];
            derivedMissing = new boolean[n];
        }
        boolean any = false;
        for (int i = 0; i < n; i++) {
            double held = supermartingaleHeld(frame, i);
            derivedMissing[i] = Double.isNaN(held);
            derived[i] = held;
            any |= !Double.isNaN(held);
        }
        return any;
    }

    /** The run's {@value TrackedMetric#SUPERMARTINGALE_HELD} (§5.4): 1, 0, or NaN without the moments (no boxing). */
    private static double supermartingaleHeld(Frame frame, int i) {
        if (!frame.isPresent(FrameColumn.GRAD_NORM_SQ, i) || !frame.isPresent(FrameColumn.TRACE_M, i)
                || !frame.isPresent(FrameColumn.HESSIAN_SPECTRAL_NORM, i)) {
            return Double.NaN;
        }
        // −η‖μ‖² + (η²/2) L Tr M, the upper end of Eq. 27's interval (§5.4)
        double drift = Theorem1.expectedChangeUpperBound(frame.value(FrameColumn.STEP_SIZE, i),
                frame.value(FrameColumn.GRAD_NORM_SQ, i), frame.value(FrameColumn.HESSIAN_SPECTRAL_NORM, i),
                frame.value(FrameColumn.TRACE_M, i));
        if (Double.isNaN(drift)) {
            return Double.NaN;
        }
        return drift <= 0 ? 1.0 : 0.0;
    }

    private void addToRollingWindows(RunState run, Frame frame, int i) {
        int t = frame.iteration();
        for (TrackedMetric metric : rollingMetrics) {
            Double value = null;
            if (metric.column() != null) {
                value = frame.valueOrNull(metric.column(), i);
            } else if (metric.source() == TrackedMetric.Source.DERIVED) {
                double held = supermartingaleHeld(frame, i);
                value = Double.isNaN(held) ? null : held;
            }
            if (value != null) {
                run.rolling(metric.name(), settings.rollingWindow()).add(t, value);
            }
        }
    }
}
