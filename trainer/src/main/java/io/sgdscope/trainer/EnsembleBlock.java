package io.sgdscope.trainer;

import io.sgdscope.client.TelemetryException;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.MinibatchSampler;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * <p>Each run is the run the retired per-run engine ({@code TrainingRun}, in the tests) would train for its index: theta_0 and the minibatch
 * stream come from the same seed in the same order, the update is the experiment's optimizer with the run's own
 * state ({@link EnsembleOptimizer}: vanilla SGD, Eq. 8; Eq. 35; Eq. 36/41; Adam, Eq. 37-39), and iteration t
 * publishes the same values (f(theta_t) and the training accuracy on the full training set, the test set when due,
 * the minibatch loss, the step eta_t the run took, ||g_t|| and cos(g_t, g_{t-1}), Fig. 8),
 * equal up to rounding (ExperimentEnginesTest compares them in float64) — not as one IterationMetrics per run
 * but as one {@link Frame} per iteration for the block's runs still going, its columns filled straight from the
 * batched results ({@link RunRecords#frame}). Every {@code momentsEvery} iterations the frame also carries the
 * moments of Eq. 4-7 and L (Eq. 6) of every run, probed for the whole block at once ({@link EnsembleCurvature}), the
 * values the per-run engine publishes; every {@code spectrumEvery} iterations and at the snapshot-at iterations each
 * run's SpectrumSnapshot follows the frame, and its snapshot folder is written ({@link EnsembleSnapshots}), both
 * computed run by run by the per-run engine's code ({@link EnsembleSpectra}), L there being the spectrum's. Every
 * frame of the block goes out under one key, its first run's id
 * (RunStarted.frameKey and RunFinished.frameKey of each run say so), so that all of them land in one partition,
 * in order; a block larger than {@link #runsPerFrame} is cut into fixed slices, each with its own frames and key.
 * A run whose loss or gradient is non-finite ends as DIVERGED right after the frame with its values, with its
 * RunFinished, and is left out of later frames; the other runs of the block
 * go on (a diverged run's slice of the arrays keeps computing NaNs that touch no other run). Cancelling
 * ends every unfinished run as CANCELLED at the next iteration boundary. RunFinished carries the Corollary 4 terms at
 * the run's last theta whenever its final loss is finite, as on the per-run engine. A failure inside the block (an
 * exception from the listener's runStarted or iterationDone, or from ND4J) ends every unfinished run of the
 * block as FAILED, each with its RunFinished; the other blocks go on. As on the per-run engine, a
 * TelemetryException or a listener failing on a RunFinished stops the experiment. With checkpoints each run saves
 * its state in its own file and a resumed block continues its runs from them ({@link EnsembleResume}); a block is
 * then made of the resumed runs of one frame key ({@link EnsembleBlocks}).
 */
final class EnsembleBlock {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final Optional<Dataset> testSet;
    private final int runs;
    private final int[] runIndices;
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
    /** Corollary 4 at each run's last theta, for its RunFinished (null: not computed). */
    private final GeneralizationTerms[] finalTerms;
    private final int[] published;
    private final boolean[] finished;
    /** Checkpoints and --resume (null without): see {@link EnsembleResume}. */
    private final EnsembleResume resume;
    /** Runs per frame slice, and each slice's frame key: its first run's id. */
    private final int sliceRuns;
    private final String[] sliceKeys;
    /** Per slice, the runs still going and their ids, or null once one of them ended (then worked out anew). */
    private final int[][] sliceLive;
    private final String[][] sliceRunIds;
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
     * the workers) of arrays allow (MNIST-sized data needs ~100 MB per run: a few runs per block). The moments and L
     * add their probe's arrays ({@link EnsembleCurvature#bytesPerRun}: Gauss-10 in float64 ~0.45 MB a run besides the
     * ~0.1 MB of training, so about 1,900 runs per worker instead of 5,000); theta_0 (one copy per run, for
     * paramDistance, Corollary 4 and the snapshots) adds one copy of theta and, with spectra, each run's probe five
     * ({@link EnsembleSpectra#bytesPerRun}).
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
        MlpArchitecture architecture = new MlpArchitecture(settings.layers());
        long perRun = BatchedMlp.bytesPerRun(architecture, settings.precision(),
                dataset.samples(), testSet.map(Dataset::samples).orElse(0), settings.batchSize());
        if (settings.curvature().momentsEvery() > 0) {                      // the probe's arrays (EnsembleCurvature)
            perRun += EnsembleCurvature.bytesPerRun(architecture, settings.precision(), dataset.samples());
        }
        perRun += EnsembleSpectra.bytesPerRun(architecture, settings);     // the spectra's probes
        perRun += (long) settings.precision().dataType().width() * architecture.parameterCount();   // theta_0
        return (int) Math.max(1, Math.min(perWorker, budget / perRun));
    }

    EnsembleBlock(TrainerSettings settings, Dataset dataset, Optional<Dataset> testSet, int firstRun, int runs,
                  Provenance provenance, TelemetrySink sink, ExperimentListener listener, BooleanSupplier cancelled) {
        this(settings, dataset, testSet, EnsembleBlocks.Spec.consecutive(firstRun, runs), provenance, sink, listener,
                cancelled, null);
    }

    /**
     * The block of {@code spec}'s runs.
     *
     * @param store the experiment's checkpoints, or null without
     */
    EnsembleBlock(TrainerSettings settings, Dataset dataset, Optional<Dataset> testSet, EnsembleBlocks.Spec spec,
                  Provenance provenance, TelemetrySink sink, ExperimentListener listener, BooleanSupplier cancelled,
                  CheckpointStore store) {
        this.settings = settings;
        this.dataset = dataset;
        this.testSet = testSet;
        this.runs = spec.runIndices().length;
        this.runIndices = spec.runIndices().clone();
        this.records = new RunRecords(settings, dataset, provenance);
        this.sink = sink;
        this.listener = listener;
        this.cancelled = cancelled;
        runIds = new String[runs];
        seeds = new long[runs];
        status = new RunStatus[runs];
        message = new String[runs];
        finalLoss = new Double[runs];
        finalTerms = new GeneralizationTerms[runs];
        published = new int[runs];
        finished = new boolean[runs];
        for (int r = 0; r < runs; r++) {
            runIds[r] = Experiment.runId(settings.experimentId(), spec.runIndices()[r]);
            seeds[r] = Experiment.runSeed(settings.baseSeed(), spec.runIndices()[r]);
            status[r] = RunStatus.COMPLETED;
        }
        resume = store == null ? null : new EnsembleResume(settings, spec, runIds, store, sink);
        sliceRuns = spec.frameKey() != null ? runs : runsPerFrame(runIds[runs - 1]);   // resumed: its frames' one key
        int slices = (runs + sliceRuns - 1) / sliceRuns;
        sliceKeys = new String[slices];
        for (int s = 0; s < slices; s++) {
            sliceKeys[s] = spec.frameKey() != null ? spec.frameKey() : runIds[s * sliceRuns];
        }
        sliceLive = new int[slices][];
        sliceRunIds = new String[slices][];
    }

    /** Bytes a frame may take at most: well below the producer's and the broker's default limit of 1 MiB a record. */
    static final int FRAME_BYTES = 768 * 1024;

    /**
     * Runs a frame covers at most. The streams apps keep the state of the runs under one frame key in one store
     * entry (the deviation app about 240 bytes a run), which goes to a changelog topic with the same 1 MiB limit a
     * record: 1,000 runs keep it near 250 KB. (With 8,000 runs in a frame the deviation app's entry reached
     * 1.19 MB and the app stopped.)
     */
    static final int MAX_FRAME_RUNS = 1_000;

    /**
     * Runs per frame: the whole block up to {@link #MAX_FRAME_RUNS}, and fewer if its frame would exceed
     * {@link #FRAME_BYTES}; a larger block publishes one frame per slice of this many runs, each under its own key.
     * A run takes its id (a length varint, then UTF-8) and at most 154 bytes of columns (5 doubles, 13 optional
     * doubles with their union index — the test set's, cos(g_t, g_{t-1}), the moments, L, the probe time and
     * ||theta_t - theta_0|| — and the batch size as a varint).
     */
    static int runsPerFrame(String runId) {
        int perRun = 2 + runId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 154;
        return Math.max(1, Math.min(MAX_FRAME_RUNS, FRAME_BYTES / perRun));
    }

    /** The frame key of run r (block-relative): the first run of its frame slice, for the block's whole life. */
    private String frameKey(int r) {
        return sliceKeys[r / sliceRuns];
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
        double[][] resumedTheta0 = new double[runs][];          // theta_0 of the resumed runs (their theta is theta_t)
        try {
            for (int r = 0; r < runs; r++) {
                SplittableRandom runRandom = new SplittableRandom(seeds[r]);                 // as TrainingRun
                double[] theta0 = settings.initialization().draw(architecture, runRandom.split());
                model.setParameters(r, theta0);                                              // theta_0
                samplers[r] = new MinibatchSampler(dataset.samples(), m, runRandom.split());
                RunStarted record = resume != null ? resume.start(r, model, samplers[r], published) : null;
                resumedTheta0[r] = record != null ? theta0 : null;
                record = record != null ? record : records.started(runIndex(r), seeds[r], frameKey(r));
                if (resume != null) {
                    resume.started(r, record);
                }
                sink.runStarted(record);
                started = r + 1;
                listener.runStarted(record);
            }
            train(model, samplers, startingPoints(model, resumedTheta0));
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
            if (resume != null) {
                results.add(resume.result(r, runIndex(r), seeds[r], status[r], published[r], finalLoss[r], message[r],
                        seconds, sink));
            } else {
                results.add(new RunResult(runIds[r], runIndex(r), seeds[r], status[r], published[r], finalLoss[r],
                        sink.droppedRecords(runIds[r]), message[r], seconds, 0, false));
            }
        }
        return results;
    }

    /** The experiment's index of block run r. */
    private int runIndex(int r) {
        return runIndices[r];
    }

    /**
     * theta_0 of every run in the model's layout, the block's one copy, for ||theta_t - theta_0|| (Eq. 52), the
     * Corollary 4 terms and the snapshot folders (EnsembleSpectra): the model holds it now, except
     * for the resumed runs, whose theta is theta_t and whose theta_0 is drawn again from their seed.
     */
    private static INDArray[] startingPoints(BatchedMlp model, double[][] resumedTheta0) {
        INDArray[] start = model.copyOfParameters();
        for (int r = 0; r < resumedTheta0.length; r++) {
            if (resumedTheta0[r] != null) {
                model.setParameters(start, r, resumedTheta0[r]);
            }
        }
        return start;
    }

    private void train(BatchedMlp model, MinibatchSampler[] samplers, INDArray[] start) {
        EnsembleCurvature curvature = new EnsembleCurvature(settings, model, dataset, runIds, seeds,
                io.sgdscope.trainer.curvature.GradientMoments.DEFAULT_GRAM_LIMIT, start);
        EnsembleOptimizer optimizer = new EnsembleOptimizer(settings, model, dataset);
        try {
            if (resume != null) {
                resume.restore(curvature, optimizer);
            }
            train(model, samplers, curvature, optimizer, start);
        } finally {
            optimizer.close();
            curvature.close();
        }
    }

    private void train(BatchedMlp model, MinibatchSampler[] samplers, EnsembleCurvature curvature,
                       EnsembleOptimizer optimizer, INDArray[] start) {
        int m = settings.batchSize();
        boolean[] probe = new boolean[runs];
        String[] probeFailures = new String[runs];
        double[] dot = new double[runs];
        double[] previousNorm = new double[runs];
        int[] indices = new int[runs * m];
        for (int t = resume == null ? 0 : resume.firstIteration(); t < settings.iterations(); t++) {
            if (cancelled.getAsBoolean()) {
                for (int r = 0; r < runs; r++) {
                    if (!finished[r]) {
                        status[r] = RunStatus.CANCELLED;
                        message[r] = "experiment cancelled before iteration " + t;
                    }
                }
                if (resume != null) {                                         // saved: --resume continues them
                    resume.suspend(t, finished, model, samplers, curvature, optimizer, previousNorm, published, startNanos);
                }
                break;
            }
            if (resume != null && resume.join(t, model, previousNorm)) {       // resumed runs whose iteration came
                Arrays.fill(sliceLive, null);
            }
            // Fresh arrays every iteration: they become the frame's columns, which are never changed once built.
            double[] loss = new double[runs];
            double[] accuracy = new double[runs];
            model.evaluate(dataset, loss, accuracy);                                   // f(theta_t), Eq. 3
            double[] distance = new double[runs];
            model.distancesFrom(start, distance);                                      // ||theta_t - theta_0||, Eq. 52
            boolean test = testSet.isPresent() && settings.testEvery() > 0 && t % settings.testEvery() == 0;
            double[] testLoss = test ? new double[runs] : null;
            double[] testAccuracy = test ? new double[runs] : null;
            if (test) {
                model.evaluate(testSet.get(), testLoss, testAccuracy);
            }
            for (int r = 0; r < runs; r++) {
                if (!live(r)) {
                    Arrays.fill(indices, r * m, (r + 1) * m, 0);                      // an ended run's slice idles
                } else {
                    System.arraycopy(samplers[r].next(), 0, indices, r * m, m);
                }
            }
            double[] minibatchLoss = new double[runs];
            double[] norm = new double[runs];
            model.lossAndGradient(dataset, indices, m, minibatchLoss);                  // g_t, Eq. 8
            model.gradientStatistics(norm, dot);
            double[] sgCosPrev = null;
            boolean[] sgCosMissing = null;
            if (t > 0) {
                sgCosPrev = new double[runs];
                for (int r = 0; r < runs; r++) {
                    if (norm[r] == 0 || previousNorm[r] == 0) {                        // no direction: null
                        sgCosMissing = sgCosMissing == null ? new boolean[runs] : sgCosMissing;
                        sgCosMissing[r] = true;
                        sgCosPrev[r] = Double.NaN;
                    } else {
                        sgCosPrev[r] = dot[r] / (norm[r] * previousNorm[r]);           // Fig. 8, middle
                    }
                }
            }
            for (int r = 0; r < runs; r++) {
                probe[r] = live(r) && Double.isFinite(loss[r]);                     // as the per-run engine
            }
            EnsembleCurvature.Columns moments = curvature.at(t, probe, probeFailures);   // Eq. 4-7 and L, at theta_t
            for (int r = 0; r < runs; r++) {
                if (probeFailures[r] != null) {                                     // as a per-run probe's exception
                    status[r] = RunStatus.FAILED;
                    message[r] = probeFailures[r];
                    finish(r);                                                      // left out of frame t
                }
            }
            String[] divergence = new String[runs];
            boolean[] stepping = new boolean[runs];
            for (int r = 0; r < runs; r++) {
                divergence[r] = !live(r) ? null : Divergence.at(t, loss[r], minibatchLoss[r], norm[r]);
                stepping[r] = live(r) && divergence[r] == null;
            }
            double[] stepSizes = optimizer.prepare(moments, stepping, norm, dot);    // eta_t, Eq. 8 / 35 / 36 / 39
            publish(t, stepSizes, loss, accuracy, minibatchLoss, norm, sgCosPrev, sgCosMissing, testLoss, testAccuracy,
                    distance, moments);
            EnsembleSnapshots.publish(t, settings, records, sink, curvature, finished, runIds, stepSizes, loss, accuracy,
                    minibatchLoss, norm, sgCosPrev, sgCosMissing, testLoss, testAccuracy, distance, moments,
                    this::frameKey);
            for (int r = 0; r < runs; r++) {
                if (!finished[r]) {
                    if (divergence[r] != null) {                                    // no update; ends now
                        status[r] = RunStatus.DIVERGED;
                        message[r] = divergence[r];
                        finalLoss[r] = loss[r];
                        finalTerms(curvature, r);                                   // Corollary 4 at theta_t
                        finish(r);
                    }
                }
            }
            for (int r = 0; r < runs; r++) {
                previousNorm[r] = live(r) ? norm[r] : previousNorm[r];
            }
            if (resume == null) {
                optimizer.apply();                                                     // theta_{t+1}
            } else {
                resume.apply(optimizer, model);                                        // waiting runs keep theta
                int next = t + 1;
                resume.afterIteration(t, () -> resume.capture(next, finished, model, samplers, curvature, optimizer,
                        previousNorm, published, startNanos));
            }
        }
        double[] loss = new double[runs];
        model.evaluate(dataset, loss, null);                                           // f at the last theta
        for (int r = 0; r < runs; r++) {
            if (!finished[r] && !suspended(r)) {
                finalLoss[r] = loss[r];
                if (status[r] == RunStatus.COMPLETED && !Double.isFinite(loss[r])) {
                    status[r] = RunStatus.DIVERGED;
                    message[r] = "loss f(theta_T) after the last update is " + loss[r];
                }
                finalTerms(curvature, r);                                           // Corollary 4 at theta_T
            }
        }
    }

    /**
     * Corollary 4's terms of run r at its current theta for its RunFinished, as the per-run engine: when its final
     * loss is finite; if they cannot be computed the run ends FAILED (as a per-run run's exception).
     */
    private void finalTerms(EnsembleCurvature curvature, int r) {
        if (finalLoss[r] == null || !Double.isFinite(finalLoss[r])) {
            return;
        }
        try {
            finalTerms[r] = curvature.spectra().finalTerms(r);
        } catch (RuntimeException e) {
            status[r] = RunStatus.FAILED;
            message[r] = e.toString();
            finalLoss[r] = null;
        }
    }

    /**
     * Publishes iteration t of the runs still going: one frame per frame slice (the whole block unless it is larger
     * than {@link #runsPerFrame}) whose runs are not all ended, built straight from the block's arrays (element r
     * belongs to run r; ended runs are left out). A method of its own, so that the JIT compiles it once instead of
     * inside the whole training loop.
     */
    private void publish(int t, double[] stepSizes, double[] loss, double[] accuracy, double[] minibatchLoss, double[] sgNorm,
                         double[] sgCosPrev, boolean[] sgCosMissing, double[] testLoss, double[] testAccuracy,
                         double[] distance, EnsembleCurvature.Columns moments) {
        for (int s = 0; s < sliceKeys.length; s++) {
            int[] live = liveRuns(s);
            if (live.length == 0) {
                continue;
            }
            Frame frame;
            if (live.length == runs) {                                                   // every run, in order
                frame = records.frame(runIds, t, loss, accuracy, minibatchLoss, stepSizes, sgNorm, sgCosPrev, sgCosMissing,
                        testLoss, testAccuracy, distance, moments);
            } else {
                frame = records.frame(sliceRunIds[s], t, pick(loss, live), pick(accuracy, live),
                        pick(minibatchLoss, live), pick(stepSizes, live), pick(sgNorm, live), pick(sgCosPrev, live), pick(sgCosMissing, live),
                        pick(testLoss, live), pick(testAccuracy, live), pick(distance, live), moments == null ? null : moments.pick(live));
            }
            sink.frame(sliceKeys[s], frame);
            for (int r : live) {
                published[r]++;
            }
            listener.iterationsDone(frame);
        }
    }

    /** The runs of frame slice s still going, in order (kept until one of them ends). */
    private int[] liveRuns(int s) {
        if (sliceLive[s] == null) {
            int from = s * sliceRuns;
            int to = Math.min(runs, from + sliceRuns);
            int count = 0;
            for (int r = from; r < to; r++) {
                count += live(r) ? 1 : 0;
            }
            int[] live = new int[count];
            String[] ids = new String[count];
            for (int r = from, i = 0; r < to; r++) {
                if (live(r)) {
                    live[i] = r;
                    ids[i++] = runIds[r];
                }
            }
            sliceLive[s] = live;
            sliceRunIds[s] = ids;
        }
        return sliceLive[s];
    }

    private static double[] pick(double[] values, int[] which) {
        if (values == null) {
            return null;
        }
        double[] picked = new double[which.length];
        for (int i = 0; i < which.length; i++) {
            picked[i] = values[which[i]];
        }
        return picked;
    }

    /** The picked flags, or null if none of them is set. */
    private static boolean[] pick(boolean[] flags, int[] which) {
        if (flags == null) {
            return null;
        }
        boolean[] picked = null;
        for (int i = 0; i < which.length; i++) {
            if (flags[which[i]]) {
                picked = picked == null ? new boolean[which.length] : picked;
                picked[i] = true;
            }
        }
        return picked;
    }

    /** Publishes the RunFinished of every started run not yet finished; {@code as} overrides their status if not null. */
    private void endUnfinished(int started, RunStatus as, String why) {
        for (int r = 0; r < started; r++) {
            if (!finished[r] && !suspended(r)) {
                if (as != null) {
                    status[r] = as;
                    message[r] = why;
                    finalLoss[r] = null;
                    finalTerms[r] = null;
                }
                try {
                    finish(r);
                } catch (ListenerFailure e) {
                    listenerFailure = listenerFailure == null ? e : listenerFailure;
                }
            }
        }
    }

    /** Whether run r trains at the current iteration: not ended, and not waiting for its resumed iteration. */
    private boolean live(int r) {
        return !finished[r] && (resume == null || resume.isLive(r));
    }

    /** Whether run r was suspended by a cancel (its state saved, no RunFinished). */
    private boolean suspended(int r) {
        return resume != null && resume.isSuspended(r);
    }

    private void finish(int r) {
        finished[r] = true;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        sliceLive[r / sliceRuns] = null;                                           // left out of later frames
        long dropped = sink.droppedRecords(runIds[r]);
        if (resume != null) {
            seconds += resume.earlierSeconds(r);
            dropped += resume.earlierDropped(r);
        }
        RunFinished record = records.finished(runIds[r], status[r], published[r], seconds, finalLoss[r],
                dropped, message[r], finalTerms[r], frameKey(r));                     // Corollary 4 at theta_T
        if (resume != null) {
            resume.finishing(record);
        }
        sink.runFinished(record);
        if (resume != null) {
            resume.finished(r, published[r], status[r], dropped, seconds);
        }
        try {
            listener.runFinished(record);
        } catch (RuntimeException e) {
            throw new ListenerFailure(e);
        }
    }
}
