package io.sgdscope.trainer;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.telemetry.TelemetryException;
import io.sgdscope.trainer.telemetry.TelemetrySink;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * A block of consecutive runs of an {@link Experiment} trained together by the ensemble engine
 * ({@link Engine#ENSEMBLE}): one {@link BatchedMlp} holds every run's parameters, and each iteration is a
 * handful of batched products for all runs at once instead of a handful per run.
 *
 * <p>Each run is the run {@link TrainingRun} would train for its index: theta_0 and the minibatch
 * stream come from the same seed in the same order, the update is vanilla SGD with the constant step
 * (Eq. 8), and iteration t publishes the same record (f(theta_t) and the training accuracy on the full
 * training set, the test set when due, the minibatch loss, eta, ||g_t|| and cos(g_t, g_{t-1}), Fig. 8),
 * equal up to rounding (ExperimentEnginesTest compares them in float64). A run whose loss or gradient is
 * non-finite ends as DIVERGED right after its record, with its RunFinished; the other runs of the block
 * go on (a diverged run's slice of the arrays keeps computing NaNs that touch no other run). Cancelling
 * ends every unfinished run as CANCELLED at the next iteration boundary. RunFinished carries no Corollary 4
 * terms (they need a curvature pass per run: use the per-run engine). A failure inside the block (an
 * exception from the listener's runStarted or iterationDone, or from ND4J) ends every unfinished run of the
 * block as FAILED, each with its RunFinished; the other blocks go on. As on the per-run engine, a
 * TelemetryException or a listener failing on a RunFinished stops the experiment.
 */
final class EnsembleBlock {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final Optional<Dataset> testSet;
    private final int firstRun;
    private final int runs;
    private final RunRecords records;
    private final TelemetrySink sink;
    private final ExperimentListener listener;
    private final BooleanSupplier cancelled;

    /** Per-run state of the block. */
    private final String[] runIds;
    private final long[] seeds;
    private final RunStatus[] status;
    private final String[] message;
    private final Double[] finalLoss;
    private final int[] published;
    private final boolean[] finished;
    private long startNanos;
    private ListenerFailure listenerFailure;

    /** A listener failed on a RunFinished: like {@link Experiment}'s per-run workers, that stops the experiment. */
    private static final class ListenerFailure extends RuntimeException {
        ListenerFailure(RuntimeException cause) {
            super(cause);
        }
    }

    /** What the arrays of the blocks a worker holds may take at most with an automatic block size. */
    static final long BYTES_PER_WORKER = 1L << 30;

    /**
     * Runs per block: the setting (at most the runs per worker), or automatically the runs split evenly across
     * the workers — every run then advances in lockstep, iteration by iteration, so that the live cross-run bands
     * cover all runs — but no more than {@link #BYTES_PER_WORKER} (and a quarter of the off-heap limit shared by
     * the workers) of arrays allow (MNIST-sized data needs ~100 MB per run: a few runs per block).
     */
    static int blockSize(TrainerSettings settings, int workers, Dataset dataset, Optional<Dataset> testSet) {
        long budget = Math.min(BYTES_PER_WORKER, org.bytedeco.javacpp.Pointer.maxBytes() / 4 / workers);
        return blockSize(settings, workers, dataset, testSet, budget);
    }

    /** {@link #blockSize} with a given budget of bytes per worker. */
    static int blockSize(TrainerSettings settings, int workers, Dataset dataset, Optional<Dataset> testSet, long budget) {
        int perWorker = (settings.shardRuns() + workers - 1) / workers;          // the runs of this process's shard
        if (settings.ensembleBlock() > 0) {
            return Math.max(1, Math.min(settings.ensembleBlock(), perWorker));
        }
        long perRun = BatchedMlp.bytesPerRun(new MlpArchitecture(settings.layers()), settings.precision(),
                dataset.samples(), testSet.map(Dataset::samples).orElse(0), settings.batchSize());
        return (int) Math.max(1, Math.min(perWorker, budget / perRun));
    }

    EnsembleBlock(TrainerSettings settings, Dataset dataset, Optional<Dataset> testSet, int firstRun, int runs,
                  Provenance provenance, TelemetrySink sink, ExperimentListener listener, BooleanSupplier cancelled) {
        this.settings = settings;
        this.dataset = dataset;
        this.testSet = testSet;
        this.firstRun = firstRun;
        this.runs = runs;
        this.records = new RunRecords(settings, dataset, provenance);
        this.sink = sink;
        this.listener = listener;
        this.cancelled = cancelled;
        runIds = new String[runs];
        seeds = new long[runs];
        status = new RunStatus[runs];
        message = new String[runs];
        finalLoss = new Double[runs];
        published = new int[runs];
        finished = new boolean[runs];
        for (int r = 0; r < runs; r++) {
            runIds[r] = Experiment.runId(settings.experimentId(), firstRun + r);
            seeds[r] = Experiment.runSeed(settings.baseSeed(), firstRun + r);
            status[r] = RunStatus.COMPLETED;
        }
    }

    /**
     * Trains the block's runs to their ends; every run whose RunStarted went out gets its RunFinished.
     *
     * @throws TelemetryException if the sink cannot take a RunStarted or RunFinished at all
     */
    List<RunResult> call() {
        startNanos = System.nanoTime();
        MlpArchitecture architecture = new MlpArchitecture(settings.layers());
        BatchedMlp model = new BatchedMlp(architecture, settings.precision(), runs);
        MinibatchSampler[] samplers = new MinibatchSampler[runs];
        int m = settings.batchSize();
        int started = 0;
        try {
            for (int r = 0; r < runs; r++) {
                SplittableRandom runRandom = new SplittableRandom(seeds[r]);                 // as TrainingRun
                model.setParameters(r, settings.initialization().draw(architecture, runRandom.split()));   // theta_0
                samplers[r] = new MinibatchSampler(dataset.samples(), m, runRandom.split());
                RunStarted record = records.started(firstRun + r, seeds[r]);
                sink.runStarted(record);
                started = r + 1;
                listener.runStarted(record);
            }
            train(model, samplers);
        } catch (TelemetryException e) {
            endUnfinished(started, RunStatus.FAILED, e.toString());
            throw e;
        } catch (ListenerFailure e) {
            listenerFailure = e;
            endUnfinished(started, RunStatus.FAILED, e.getCause().toString());
        } catch (RuntimeException e) {
            endUnfinished(started, RunStatus.FAILED, e.toString());
        }
        endUnfinished(started, null, null);
        if (listenerFailure != null) {
            throw (RuntimeException) listenerFailure.getCause();
        }
        List<RunResult> results = new ArrayList<>();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        for (int r = 0; r < started; r++) {
            results.add(new RunResult(runIds[r], firstRun + r, seeds[r], status[r], published[r], finalLoss[r],
                    sink.droppedRecords(runIds[r]), message[r], seconds, 0, false));
        }
        return results;
    }

    private void train(BatchedMlp model, MinibatchSampler[] samplers) {
        int m = settings.batchSize();
        double eta = settings.learningRate();
        double[] loss = new double[runs];
        double[] accuracy = new double[runs];
        double[] testLoss = new double[runs];
        double[] testAccuracy = new double[runs];
        double[] minibatchLoss = new double[runs];
        double[] norm = new double[runs];
        double[] dot = new double[runs];
        double[] previousNorm = new double[runs];
        int[] indices = new int[runs * m];
        for (int t = 0; t < settings.iterations(); t++) {
            if (cancelled.getAsBoolean()) {
                for (int r = 0; r < runs; r++) {
                    if (!finished[r]) {
                        status[r] = RunStatus.CANCELLED;
                        message[r] = "experiment cancelled before iteration " + t;
                    }
                }
                break;
            }
            model.evaluate(dataset, loss, accuracy);                                   // f(theta_t), Eq. 3
            boolean test = testSet.isPresent() && settings.testEvery() > 0 && t % settings.testEvery() == 0;
            if (test) {
                model.evaluate(testSet.get(), testLoss, testAccuracy);
            }
            for (int r = 0; r < runs; r++) {
                if (finished[r]) {
                    Arrays.fill(indices, r * m, (r + 1) * m, 0);                      // a diverged run's slice idles
                } else {
                    System.arraycopy(samplers[r].next(), 0, indices, r * m, m);
                }
            }
            model.lossAndGradient(dataset, indices, m, minibatchLoss);                  // g_t, Eq. 8
            model.gradientStatistics(norm, dot);
            for (int r = 0; r < runs; r++) {
                if (!finished[r]) {
                    recordIteration(r, t, eta, loss[r], accuracy[r], minibatchLoss[r], norm[r], previousNorm[r], dot[r],
                            test ? testLoss[r] : null, test ? testAccuracy[r] : null);
                    previousNorm[r] = norm[r];
                }
            }
            model.step(eta);                                                           // theta - eta g_t, Eq. 8
        }
        model.evaluate(dataset, loss, null);                                           // f at the last theta
        for (int r = 0; r < runs; r++) {
            if (!finished[r]) {
                finalLoss[r] = loss[r];
                if (status[r] == RunStatus.COMPLETED && !Double.isFinite(loss[r])) {
                    status[r] = RunStatus.DIVERGED;
                    message[r] = "loss f(theta_T) after the last update is " + loss[r];
                }
            }
        }
    }

    /**
     * Publishes run r's IterationMetrics of iteration t and ends the run if it diverged (a method of its own,
     * so that the JIT compiles it once instead of inside the whole training loop).
     */
    private void recordIteration(int r, int t, double eta, double loss, double accuracy, double minibatchLoss,
                                 double sgNorm, double previousNorm, double dot, Double testLoss, Double testAccuracy) {
        Double sgCosPrev = t == 0 || sgNorm == 0 || previousNorm == 0 ? null
                : dot / (sgNorm * previousNorm);                                    // Fig. 8, middle
        String divergence = TrainingRun.divergence(t, loss, minibatchLoss, sgNorm);
        IterationMetrics record = records.iteration(runIds[r], t, loss, accuracy, minibatchLoss, eta, sgNorm, sgCosPrev,
                testLoss, testAccuracy, RunCurvature.Measured.NOTHING);
        sink.iteration(record);
        published[r]++;
        listener.iterationDone(record);
        if (divergence != null) {                                                   // no update; ends now
            status[r] = RunStatus.DIVERGED;
            message[r] = divergence;
            finalLoss[r] = loss;
            finish(r);
        }
    }

    /** Publishes the RunFinished of every started run not yet finished; {@code as} overrides their status if not null. */
    private void endUnfinished(int started, RunStatus as, String why) {
        for (int r = 0; r < started; r++) {
            if (!finished[r]) {
                if (as != null) {
                    status[r] = as;
                    message[r] = why;
                    finalLoss[r] = null;
                }
                try {
                    finish(r);
                } catch (ListenerFailure e) {
                    listenerFailure = listenerFailure == null ? e : listenerFailure;
                }
            }
        }
    }

    private void finish(int r) {
        finished[r] = true;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        RunFinished record = records.finished(runIds[r], status[r], published[r], seconds, finalLoss[r],
                sink.droppedRecords(runIds[r]), message[r], null);                  // no Corollary 4 terms
        sink.runFinished(record);
        try {
            listener.runFinished(record);
        } catch (RuntimeException e) {
            throw new ListenerFailure(e);
        }
    }
}
