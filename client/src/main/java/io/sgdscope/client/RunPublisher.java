package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.Objects;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Publishes one run: its RunStarted when made ({@link SgdscopeClient#startRun}), an IterationMetrics per
 * {@link #iteration} (t = 0, 1, ... in call order, keyed by the run id), spectra, and its RunFinished ({@link #finish};
 * {@link #close} finishes a run not finished yet as CANCELLED, so that a RunFinished always follows). Iterations never
 * hold training up for long: a record the producer cannot take is dropped and counted ({@link #droppedRecords}).
 * Not thread-safe: call it from the training loop's thread.
 */
public final class RunPublisher implements AutoCloseable {

    private final TelemetrySink sink;
    private final RunDescription description;
    private final String runId;
    private final GradientTracker tracker;
    private final long startNanos = System.nanoTime();
    private int published;
    private RunFinished finished;

    RunPublisher(TelemetrySink sink, RunDescription description) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.description = description;
        this.runId = description.runId();
        long p = description.model().parameterCount();
        if (p > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("p = " + p + " parameters do not fit one Java array");
        }
        this.tracker = new GradientTracker((int) p);
        sink.runStarted(ClientRecords.started(description, null));
    }

    /** The run's id, {@code <experimentId>-r<index>}. */
    public String runId() {
        return runId;
    }

    /** The run's experiment id. */
    public String experimentId() {
        return description.experimentId();
    }

    /** The iterations published so far (the next iteration's t). */
    public int iterations() {
        return published;
    }

    /**
     * Publishes iteration t with the caller's scalars and ||g_t||, cos(g_t, g_{t-1}) computed from the arrays (float64).
     *
     * @param theta    theta_t, the parameters before the update (length p); the first call's is theta_0
     * @param gradient g_t, the stochastic gradient of the minibatch (length p)
     * @return what was computed, ||theta_t - theta_0|| included
     * @throws IllegalStateException after {@link #finish}; IllegalArgumentException for arrays of another length than p
     */
    public GradientStatistics iteration(Step step, double[] theta, double[] gradient) {
        return publish(step, tracker.next(theta, gradient));
    }

    /** As {@link #iteration(Step, double[], double[])} for float32 arrays (the statistics still in float64). */
    public GradientStatistics iteration(Step step, float[] theta, float[] gradient) {
        return publish(step, tracker.next(theta, gradient));
    }

    /**
     * As {@link #iteration(Step, double[], double[])} for ND4J arrays of p values (any shape, read in row-major
     * order; float32 widened to float64). Needs ND4J on the class path, as the caller's arrays do.
     */
    public GradientStatistics iteration(Step step, INDArray theta, INDArray gradient) {
        return publish(step, tracker.next(Nd4jVectors.values(theta), Nd4jVectors.values(gradient)));
    }

    /**
     * Publishes iteration t with statistics the caller computed for this run's t (with its own {@link GradientTracker}
     * or {@link Nd4jGradientTracker}, e.g. when the arrays change before the scalars are known).
     */
    public GradientStatistics iteration(Step step, GradientStatistics statistics) {
        return publish(step, statistics);
    }

    /**
     * As {@link #iteration(Step, GradientStatistics)}, with further fields the caller measured at theta_t set on the
     * record before it is published: {@code extra} receives the record with the scalars filled in and may set its
     * curvature fields (the moments of Eq. 4-7, hessianSpectralNorm L, probeSeconds), e.g. a DL4J probe's
     * {@code ProbeMoments::applyTo}. It must not change the run id, experiment id or iteration.
     *
     * @return the record as published
     */
    public IterationMetrics iteration(Step step, GradientStatistics statistics, Consumer<IterationMetrics> extra) {
        Objects.requireNonNull(extra, "extra");
        IterationMetrics record = record(step, statistics);
        extra.accept(record);
        if (!runId.equals(record.getRunId()) || record.getIteration() != published) {
            throw new IllegalArgumentException("the extra fields changed the record's run id or iteration");
        }
        sink.iteration(record);
        published++;
        return record;
    }

    private GradientStatistics publish(Step step, GradientStatistics statistics) {
        sink.iteration(record(step, statistics));
        published++;
        return statistics;
    }

    private IterationMetrics record(Step step, GradientStatistics statistics) {
        if (finished != null) {
            throw new IllegalStateException("run " + runId + " has finished: no more iterations");
        }
        return ClientRecords.iteration(runId, description.experimentId(), published, step, statistics);
    }

    /** Publishes a curvature snapshot of this run (its runId must be this run's). */
    public void spectrum(SpectrumSnapshot snapshot) {
        if (!runId.equals(snapshot.getRunId())) {
            throw new IllegalArgumentException("a spectrum of run " + snapshot.getRunId() + " handed to run " + runId);
        }
        sink.spectrum(snapshot);
    }

    /** Records of this run dropped so far (producer buffer full, or not delivered). */
    public long droppedRecords() {
        return sink.droppedRecords(runId);
    }

    /** Finishes the run as COMPLETED; {@code finalLoss} is f(theta_T) after the last update, or null. */
    public RunFinished finish(Double finalLoss) {
        return finish(RunStatus.COMPLETED, finalLoss, null);
    }

    /**
     * Publishes the RunFinished (once the run's records are acknowledged); a second call returns the first's record.
     *
     * @param message why the run ended other than COMPLETED, or null
     */
    public RunFinished finish(RunStatus status, Double finalLoss, String message) {
        if (finished == null) {
            RunFinished record = ClientRecords.finished(runId, description.experimentId(), status, published,
                    (System.nanoTime() - startNanos) / 1e9, finalLoss, sink.droppedRecords(runId), message, null);
            finished = record;
            sink.runFinished(record);
        }
        return finished;
    }

    /** Finishes the run as CANCELLED if it has not finished. */
    @Override
    public void close() {
        if (finished == null) {
            finish(RunStatus.CANCELLED, null, "closed after " + published + " iterations without finish()");
        }
    }
}
