package io.sgdscope.trainer;

import io.sgdscope.client.Delivery;
import io.sgdscope.client.TelemetryException;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.Evaluation;
import io.sgdscope.trainer.model.Mlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.FullBatchStatistics;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.Optimizer;
import io.sgdscope.trainer.optim.StochasticGradients;
import io.sgdscope.trainer.snapshot.SnapshotWriter;
import java.io.IOException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One run of the retired per-run engine ({@link PerRunEngine}), the reference the ensemble engine is checked against:
 * theta_0 from the run's seed, then T iterations of its optimizer
 * (vanilla SGD, Eq. 8; Theorem 3's adaptive step, Eq. 35, or diagonal preconditioner, Eq. 36; Adam,
 * Eq. 37-39), publishing RunStarted, one IterationMetrics per iteration and RunFinished.
 *
 * <p>Iteration t, at theta_t: f(theta_t) and the training accuracy on the full training set
 * (Eq. 3); a minibatch of m samples drawn with replacement; its loss and the stochastic gradient
 * g_t; ||g_t|| and cos(g_t, g_{t-1}) (Fig. 8); the curvature quantities due at t
 * ({@link PerRunCurvature}: moments and L in the record, a SpectrumSnapshot after it, a snapshot
 * folder); the optimizer's update theta_{t+1} = theta_t - eta_t g_t (or its per-coordinate form),
 * given the exact full-batch quantities when the moments were computed at t (||mu||^2, Tr M, L, and
 * mu_t, diag(M_t) for the preconditioner), else the latest L; then the record, with the step size
 * eta_t the optimizer returned, is published. A non-finite loss or gradient ends the run as DIVERGED
 * right after its record is published, without an update (its record carries the base step). RunFinished carries the
 * Corollary 4 terms at theta_T.
 */
final class TrainingRun {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final Optional<Dataset> testSet;
    private final int runIndex;
    private final String runId;
    private final long seed;
    private final RunRecords records;
    private final TelemetrySink sink;
    private final ExperimentListener listener;
    private final StepObserver observer;
    private final BooleanSupplier cancelled;
    private final CheckpointStore store;
    private final RunCheckpoint resumeFrom;
    /** The RunStarted this run published (its first start's when resumed). */
    private RunStarted started;

    /**
     * @param store      where the run saves its state, or null without checkpoints
     * @param resumeFrom the checkpoint the run continues from, or null to start from theta_0
     */
    TrainingRun(TrainerSettings settings, Dataset dataset, Optional<Dataset> testSet, int runIndex, Provenance provenance,
                TelemetrySink sink, ExperimentListener listener, StepObserver observer, BooleanSupplier cancelled,
                CheckpointStore store, RunCheckpoint resumeFrom) {
        this.settings = settings;
        this.dataset = dataset;
        this.testSet = testSet;
        this.runIndex = runIndex;
        this.runId = Experiment.runId(settings.experimentId(), runIndex);
        this.seed = Experiment.runSeed(settings.baseSeed(), runIndex);
        this.records = new RunRecords(settings, dataset, provenance);
        this.sink = sink;
        this.listener = listener;
        this.observer = observer;
        this.cancelled = cancelled;
        this.store = store;
        this.resumeFrom = resumeFrom;
    }

    /** ||theta_t - theta_0||_2 in float64 (both widened exactly), by ND4J's distance2: the ensemble's reference. */
    private static double distanceFromStart(INDArray theta, INDArray theta0) {
        return theta.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .distance2(theta0.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE));
    }

    /** A checkpoint taken after an iteration, written once the broker has acknowledged the records it covers. */
    private record Pending(RunCheckpoint checkpoint, Delivery delivery) {}

    /** What the loop carries from one iteration to the next, besides theta and the optimizer. */
    private static final class Carried {
        INDArray previous;
        double previousNorm;
        double latestL = Double.NaN;
        int published;
    }

    /**
     * Trains the run to its end, whatever the end is. Once RunStarted is published, a RunFinished
     * always follows, except for a run suspended by a cancel with checkpoints on (its state is saved and
     * {@code --resume} continues it) and for an {@link Error} (a crash: it propagates).
     *
     * @throws TelemetryException if the sink cannot take RunStarted or RunFinished at all
     */
    RunResult call() {
        long startNanos = System.nanoTime();
        MlpArchitecture architecture = new MlpArchitecture(settings.layers());
        started = resumeFrom != null ? resumeFrom.runStarted() : records.started(runIndex, seed, null);  // per run: keyed by its runId
        sink.runStarted(started);

        int startIteration = resumeFrom != null ? resumeFrom.nextIteration() : 0;
        double earlierSeconds = resumeFrom != null ? resumeFrom.elapsedSeconds() : 0;
        long earlierDropped = resumeFrom != null ? resumeFrom.droppedRecords() : 0;
        RunStatus status = RunStatus.COMPLETED;
        String message = null;
        Double finalLoss = null;
        GeneralizationTerms finalTerms = null;
        boolean suspended = false;
        RunCheckpoint end = null;
        Carried carried = new Carried();
        carried.published = resumeFrom != null ? resumeFrom.published() : 0;
        PerRunCurvature curvature = null;
        try (Mlp model = new Mlp(architecture, settings.precision())) {
            listener.runStarted(started);
            SplittableRandom runRandom = new SplittableRandom(seed);
            model.initialize(settings.initialization(), runRandom.split());            // theta_0
            curvature = new PerRunCurvature(settings, runId, seed, model.parameters());
            MinibatchSampler sampler = new MinibatchSampler(dataset.samples(), settings.batchSize(), runRandom.split());
            Optimizer optimizer = settings.optimizer().create(settings.learningRate(), settings.batchSize());
            boolean diagonals = settings.optimizer().usesDiagonals();
            INDArray gradient = model.gradient();
            carried.previous = Nd4j.zeros(gradient.dataType(), gradient.length());
            if (resumeFrom != null) {
                restore(resumeFrom, model, sampler, optimizer, curvature, carried);
            }
            Pending pending = null;
            for (int t = startIteration; t < settings.iterations(); t++) {
                if (cancelled.getAsBoolean()) {
                    status = RunStatus.CANCELLED;
                    message = "experiment cancelled before iteration " + t;
                    if (store != null) {
                        suspended = suspend(capture(t, model, sampler, optimizer, curvature, carried,
                                earlierSeconds + (System.nanoTime() - startNanos) / 1e9), earlierDropped);
                    }
                    break;
                }
                Evaluation evaluation = model.evaluate(dataset);                        // f(theta_t), Eq. 3
                Evaluation test = testDue(t) ? model.evaluate(testSet.get()) : null;    // f on held-out data
                double minibatchLoss = model.lossAndGradient(dataset, sampler.next());  // g_t, Eq. 8
                double sgNorm = StochasticGradients.norm(gradient);
                Double sgCosPrev = t == 0 ? null
                        : StochasticGradients.cosine(gradient, sgNorm, carried.previous, carried.previousNorm);
                observer.step(runId, t, model.parameters(), gradient);
                double paramDistance = distanceFromStart(model.parameters(), curvature.initialParameters());  // Eq. 52
                RunCurvature.Measured measured = Double.isFinite(evaluation.loss())
                        ? curvature.at(t, model, dataset, diagonals) : RunCurvature.Measured.NOTHING;
                String divergence = Divergence.at(t, evaluation.loss(), minibatchLoss, sgNorm);
                boolean snapshot = settings.curvature().snapshotAt(t);
                INDArray thetaT = snapshot ? model.parameters().dup() : model.parameters();
                double stepSize = settings.learningRate();                              // no update after a divergence
                if (divergence == null) {
                    FullBatchStatistics exact = measured.statistics(carried.latestL);
                    stepSize = optimizer.step(model.parameters(), gradient, exact);      // Eq. 8 / 35 / 36 / 39
                    if (measured.spectralNorm() != null) {
                        carried.latestL = measured.spectralNorm();
                    }
                }
                IterationMetrics record = records.iteration(runId, t, evaluation.loss(), evaluation.accuracy(),
                        minibatchLoss, stepSize, sgNorm, sgCosPrev, test == null ? null : test.loss(),
                        test == null ? null : test.accuracy(), paramDistance, measured);
                sink.iteration(record);
                carried.published++;
                if (measured.spectrum() != null) {
                    sink.spectrum(measured.spectrum());
                }
                listener.iterationDone(record);
                if (snapshot) {
                    writeSnapshot(t, thetaT, curvature, record, measured.spectrum());
                }
                if (divergence != null) {
                    status = RunStatus.DIVERGED;
                    message = divergence;
                    break;
                }
                Nd4j.getBlasWrapper().level1().copy(gradient, carried.previous);
                carried.previousNorm = sgNorm;
                pending = checkpoint(t, pending, model, sampler, optimizer, curvature, carried,
                        earlierSeconds + (System.nanoTime() - startNanos) / 1e9, earlierDropped);
            }
            if (!suspended) {
                finalLoss = model.loss(dataset);                                        // f at the last theta
                if (status == RunStatus.COMPLETED && !Double.isFinite(finalLoss)) {
                    status = RunStatus.DIVERGED;
                    message = "loss f(theta_T) after the last update is " + finalLoss;
                }
                if (Double.isFinite(finalLoss)) {
                    finalTerms = curvature.finish(model, dataset);                      // Corollary 4 at theta_T
                }
                if (store != null) {
                    end = capture(carried.published, model, sampler, optimizer, curvature, carried, 0);
                }
            }
        } catch (RuntimeException e) {
            status = RunStatus.FAILED;
            message = e.toString();
            finalLoss = null;
            finalTerms = null;
            suspended = false;
            end = null;
        } finally {
            if (curvature != null) {
                curvature.close();
            }
        }

        double seconds = earlierSeconds + (System.nanoTime() - startNanos) / 1e9;
        long dropped = earlierDropped + sink.droppedRecords(runId);
        int resumedAt = resumeFrom != null ? resumeFrom.nextIteration() : 0;
        if (suspended) {
            return new RunResult(runId, runIndex, seed, status, carried.published, null, dropped,
                    message + "; suspended, its state saved: --resume continues it", seconds, resumedAt, true);
        }
        RunFinished finished = records.finished(runId, status, carried.published, seconds, finalLoss, dropped, message,
                finalTerms, null);
        if (store != null) {
            store.writeUnsent(finished);
        }
        sink.runFinished(finished);
        if (store != null) {
            // After the RunFinished: a crash in between makes --resume train the rest again (published twice,
            // dropped downstream), never lose the RunFinished.
            RunCheckpoint marker = end != null ? end : RunCheckpoint.marker(started, carried.published);
            store.write(marker.finishedAs(status).withDroppedRecords(dropped).withElapsedSeconds(seconds));
            RunDelivery.confirmFinished(sink, store, runId);
        }
        listener.runFinished(finished);
        return new RunResult(runId, runIndex, seed, status, carried.published, finalLoss, dropped, message, seconds,
                resumedAt, false);
    }

    /** Puts a new run where the checkpoint left off: theta, the sampler's stream, the optimizer, the probe, g_{t-1}, L. */
    private static void restore(RunCheckpoint from, Mlp model, MinibatchSampler sampler, Optimizer optimizer,
                                PerRunCurvature curvature, Carried carried) {
        model.setParameters(from.theta());
        sampler.skip(from.batchesDrawn());
        optimizer.restore(from.optimizer(), model.parameters().dataType());
        curvature.restore(from.probe());
        if (from.previousGradient().length > 0) {
            carried.previous.assign(Nd4j.createFromArray(from.previousGradient()).castTo(carried.previous.dataType()));
        }
        carried.previousNorm = from.previousNorm();
        carried.latestL = from.latestL();
    }

    /** The run's state before iteration {@code next} (copies). */
    private RunCheckpoint capture(int next, Mlp model, MinibatchSampler sampler, Optimizer optimizer, PerRunCurvature curvature,
                                  Carried carried, double elapsedSeconds) {
        return new RunCheckpoint(started, null, next, carried.published, 0,
                elapsedSeconds, sampler.batchesDrawn(), model.parametersAsDoubles(),
                next == 0 ? new double[0] : carried.previous.toDoubleVector(), carried.previousNorm, carried.latestL,
                curvature.probeState(), optimizer.state());
    }

    /**
     * After iteration t: writes the pending checkpoint once its records are delivered, and takes a new one when
     * one is due (waiting for the previous only if it is still not delivered by then). Never writes a checkpoint
     * that claims records the broker may not have.
     */
    private Pending checkpoint(int t, Pending pending, Mlp model, MinibatchSampler sampler, Optimizer optimizer,
                               PerRunCurvature curvature, Carried carried, double elapsedSeconds, long earlierDropped) {
        if (pending != null && pending.delivery().isDone()) {
            write(pending.checkpoint(), earlierDropped);
            pending = null;
        }
        if (!settings.checkpoint().dueAfter(t) || t + 1 >= settings.iterations()) {
            return pending;
        }
        if (pending != null && pending.delivery().await(RunDelivery.TIMEOUT)) {
            write(pending.checkpoint(), earlierDropped);
        }
        Pending due = new Pending(capture(t + 1, model, sampler, optimizer, curvature, carried, elapsedSeconds),
                sink.delivery(runId));
        if (due.delivery().isDone()) {
            write(due.checkpoint(), earlierDropped);                    // nothing in flight (an in-memory sink)
            return null;
        }
        return due;
    }

    /**
     * A cancelled run with checkpoints: once the records it published are delivered, saves its state at the
     * iteration it stopped before, and publishes no RunFinished. If they are not delivered in time, no new
     * checkpoint is written (the last one stays: a resume publishes some iterations twice rather than skip any).
     *
     * @return true (the run is suspended either way)
     */
    private boolean suspend(RunCheckpoint state, long earlierDropped) {
        if (sink.delivery(runId).await(RunDelivery.TIMEOUT)) {
            write(state, earlierDropped);
        }
        return true;
    }

    private void write(RunCheckpoint checkpoint, long earlierDropped) {
        store.write(checkpoint.withDroppedRecords(earlierDropped + sink.droppedRecords(runId)));
    }

    /** Writes DIR/runId/t/ from the records just published (the values that went to Kafka). */
    private void writeSnapshot(int t, INDArray thetaT, PerRunCurvature curvature, IterationMetrics record,
                               SpectrumSnapshot spectrum) {
        try {
            SnapshotWriter.write(settings.curvature().snapshotDir(), runId, t, new MlpArchitecture(settings.layers()),
                    dataset.features(), dataset.labels(), thetaT, curvature.initialParameters(), settings.curvature().topK(),
                    settings.priorSigma(), record, spectrum);
        } catch (IOException e) {
            throw SnapshotWriter.unchecked(runId + " at t = " + t, e);
        }
    }

    /** Whether iteration t evaluates the test set: there is one, and t is a multiple of testEvery. */
    private boolean testDue(int t) {
        return testSet.isPresent() && settings.testEvery() > 0 && t % settings.testEvery() == 0;
    }
}
