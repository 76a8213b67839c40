package io.sgdscope.streams.runs;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.List;
import java.util.Objects;

/**
 * What the per-run processors of both apps read, keyed by the key of the frames that carry a run's
 * iterations (its block's first run id, or its own run id when it publishes per run): the runs' iterations
 * as frames, their spectrum snapshots (as scalars) and their starts and finishes. Starts, finishes and
 * snapshots come from other topics and are re-keyed on the way (see {@link RunInputs}).
 */
public sealed interface RunInput {

    String runId();

    String experimentId();

    /**
     * One iteration of one or more runs of an experiment, as read from sgd.iterations: an IterationFrame, or
     * a per-run IterationMetrics record as a frame of one run. {@link #runId()} is the frame's first run; the
     * processors key a block's state by the record's Kafka key (the block's frame key), which stays when that run ends.
     */
    record Frames(Frame frame) implements RunInput {

        public Frames {
            Objects.requireNonNull(frame, "frame");
        }

        @Override
        public String runId() {
            return frame.key();
        }

        @Override
        public String experimentId() {
            return frame.experimentId();
        }
    }

    /**
     * The scalars sgdscope tracks of a SpectrumSnapshot (how arrays become scalars: {@link #NAMES}).
     *
     * @param values in the order of {@link #NAMES}; NaN where the snapshot has no such value
     */
    record Spectrum(String runId, String experimentId, int iteration, double[] values) implements RunInput {

        /**
         * λ₁(H_f) (Eq. 6), λ₁(M_t) (Eq. 7), λ₁(H_p) (Eq. 12): the first (largest) of the top-k eigenvalues;
         * the largest principal-angle cosine between the top-k eigenspaces of H_f and M_t (Eq. 13: how
         * well their best-aligned directions agree) and the mean of the k cosines (how much of the two
         * subspaces overlaps overall).
         */
        public static final List<String> NAMES = List.of("hessianTopEigenvalue", "secondMomentTopEigenvalue",
                "predictionHessianTopEigenvalue", "principalAngleCosineFirst", "principalAngleCosineMean");

        public Spectrum {
            Objects.requireNonNull(runId, "runId");
            Objects.requireNonNull(experimentId, "experimentId");
            if (values.length != NAMES.size()) {
                throw new IllegalArgumentException("expected " + NAMES.size() + " spectrum values, got " + values.length);
            }
        }

        public static Spectrum of(SpectrumSnapshot snapshot) {
            double[] values = {
                first(snapshot.getHessianEigenvalues()),
                first(snapshot.getSecondMomentEigenvalues()),
                first(snapshot.getPredictionHessianEigenvalues()),
                first(snapshot.getPrincipalAngleCosines()),
                mean(snapshot.getPrincipalAngleCosines())};
            return new Spectrum(snapshot.getRunId(), snapshot.getExperimentId(), snapshot.getIteration(), values);
        }

        /** The value of one of the {@link #NAMES}. */
        public double value(String name) {
            int index = NAMES.indexOf(name);
            if (index < 0) {
                throw new IllegalArgumentException("'" + name + "' is not one of " + NAMES);
            }
            return values[index];
        }

        private static double first(List<Double> values) {
            return values == null || values.isEmpty() || values.get(0) == null ? Double.NaN : values.get(0);
        }

        private static double mean(List<Double> values) {
            if (values == null || values.isEmpty()) {
                return Double.NaN;
            }
            double sum = 0;
            for (Double value : values) {
                sum += value == null ? Double.NaN : value;
            }
            return sum / values.size();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Spectrum that && runId.equals(that.runId) && experimentId.equals(that.experimentId)
                    && iteration == that.iteration && java.util.Arrays.equals(values, that.values);
        }

        @Override
        public int hashCode() {
            return Objects.hash(runId, experimentId, iteration, java.util.Arrays.hashCode(values));
        }

        @Override
        public String toString() {
            return "Spectrum[" + runId + ", t=" + iteration + ", " + java.util.Arrays.toString(values) + "]";
        }
    }

    /**
     * A run began (RunStarted, reduced to what the apps use).
     *
     * @param optimizer RunStarted.optimizer.name: "sgd" is vanilla SGD with a constant step (Eq. 23)
     * @param parameterCount p, the number of parameters (Thm 2's K₂, Eq. 33)
     * @param frameKey the key of the frames that carry its iterations (its run id when it publishes per run)
     * @param shardIndex i, the 1-based shard (trainer process) that trains the run when its experiment is sharded
     *                   across N processes ({@code sgdscope train --shard i/N}; RunStarted.shardIndex); 0 when not said
     * @param shardCount N, the number of shards of the experiment (RunStarted.shardCount); 0 when not said. Both are
     *                   said (1 ≤ i ≤ N) or neither is
     */
    record Started(String runId, String experimentId, int runIndex, String optimizer, long parameterCount, String frameKey,
                   int shardIndex, int shardCount) implements RunInput {

        public Started {
            Objects.requireNonNull(runId, "runId");
            Objects.requireNonNull(experimentId, "experimentId");
            Objects.requireNonNull(optimizer, "optimizer");
            Objects.requireNonNull(frameKey, "frameKey");
            if (!(shardIndex == 0 && shardCount == 0 || shardIndex >= 1 && shardIndex <= shardCount)) {
                throw new IllegalArgumentException("shard must be i/N with 1 <= i <= N, or 0/0 when not said, got "
                        + shardIndex + "/" + shardCount);
            }
        }

        /** A start that does not name a shard (its experiment is not sharded, or an older trainer made it). */
        public Started(String runId, String experimentId, int runIndex, String optimizer, long parameterCount, String frameKey) {
            this(runId, experimentId, runIndex, optimizer, parameterCount, frameKey, 0, 0);
        }

        /**
         * The start a RunStarted record says. Its shard is taken only when the record says both shardIndex i and
         * shardCount N with 1 ≤ i ≤ N; anything else (neither, one of them, or an i outside 1 … N) counts as not
         * sharded, so that a malformed record never holds an experiment's frontier back.
         */
        public static Started of(RunStarted record) {
            Integer index = record.getShardIndex();
            Integer count = record.getShardCount();
            boolean sharded = index != null && count != null && index >= 1 && index <= count;
            return new Started(record.getRunId(), record.getExperimentId(), record.getRunIndex(),
                    record.getOptimizer().getName(), record.getModel().getParameterCount(),
                    record.getFrameKey() != null ? record.getFrameKey() : record.getRunId(),
                    sharded ? index : 0, sharded ? count : 0);
        }

        /** Whether the record named the run's shard (its experiment is sharded). */
        public boolean sharded() {
            return shardCount > 0;
        }

        /** Vanilla SGD (constant step size, Eq. 23); anything else adapts its step (Thm 3). */
        public boolean vanilla() {
            return "sgd".equalsIgnoreCase(optimizer);
        }
    }

    /**
     * A run ended (RunFinished, reduced to what the apps use).
     *
     * @param iterations iterations published, t = 0 .. iterations − 1
     * @param finalLoss f(θ) after the last update, or null
     * @param message why it ended when it did not complete, or null
     * @param frameKey the key of the frames that carried its iterations (its run id when it published per run)
     */
    record Finished(String runId, String experimentId, RunStatus status, int iterations, Double finalLoss, String message,
                    String frameKey) implements RunInput {

        public Finished {
            Objects.requireNonNull(runId, "runId");
            Objects.requireNonNull(experimentId, "experimentId");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(frameKey, "frameKey");
        }

        public static Finished of(RunFinished record) {
            return new Finished(record.getRunId(), record.getExperimentId(), record.getStatus(), record.getIterations(),
                    record.getFinalLoss(), record.getMessage(), record.getFrameKey() != null ? record.getFrameKey() : record.getRunId());
        }

        /**
         * f(θ_T) with T = {@link #iterations()}, when the record tells it: the trainer computes
         * {@code finalLoss} after the last update; a COMPLETED or CANCELLED run updated θ after each
         * of its T published iterations, so that is f(θ_T) and closes the step T − 1 → T. A DIVERGED
         * run stopped before updating (its finalLoss is f at its last published iteration), a FAILED
         * one has none.
         */
        public Double lossAfterLastIteration() {
            boolean updatedAfterEach = status == RunStatus.COMPLETED || status == RunStatus.CANCELLED;
            return updatedAfterEach && iterations > 0 && finalLoss != null ? finalLoss : null;
        }
    }
}
