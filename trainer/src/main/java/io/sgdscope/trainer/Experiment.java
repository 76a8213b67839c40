package io.sgdscope.trainer;

import io.sgdscope.client.TelemetryException;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.Splits;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * R runs of one configuration that differ only in their seed, on one shared training set: the
 * ensemble whose quantiles across runs the paper reads (Sec. 5.1, Fig. 8).
 *
 * <p>Runs are trained by the ensemble engine ({@link Engine#ENSEMBLE}), in blocks of runs ({@link EnsembleBlock},
 * {@link EnsembleBlocks}) taken by {@code settings.workers()} threads, each taking the next block until none is
 * left; every run is deterministic for (settings, run index), so results do not depend on the number of workers.
 * ND4J's own op threads are set to cores / workers (see {@link Nd4jThreads}). The per-run engine that trained one
 * network per run was retired; it lives on in the trainer's tests as the reference the ensemble engine is checked
 * against, run through this class's orchestration ({@link Tasks}).
 *
 * <p>A sharded experiment ({@link TrainerSettings#shard()}, {@code --shard i/N}) trains only its shard's run
 * indices, [floor((i-1) R / N), floor(i R / N)), each exactly as the unsharded experiment trains it (same run id,
 * seed and minibatch stream); the blocks are made of the shard's runs. Every RunStarted still
 * says how many runs the whole experiment has ({@code plannedRuns} = R, informational), and a sharded one names its
 * shard ({@code shardIndex} i, {@code shardCount} N), so that the streams apps wait for a run of every shard.
 *
 * <p>{@link #cancel()} stops the runs in progress at their next iteration boundary (they end
 * CANCELLED, or with checkpoints on are suspended to be resumed) and starts no further runs. A {@link TelemetryException} (the sink cannot take a
 * RunStarted or RunFinished at all), or an exception of the listener on a RunFinished, cancels the
 * experiment and is rethrown by {@link #run()} once the other runs have ended. Any other failure
 * inside a run ends only that run, as FAILED. An {@link Error} out of a run is taken for a crash of the
 * process: the run publishes nothing more (no RunFinished), the experiment is cancelled, and
 * {@link #run()} throws once the other workers have ended; with checkpoints the crashed run continues
 * from its last checkpoint on {@code --resume}.
 *
 * <p>Checkpoints ({@link io.sgdscope.trainer.checkpoint.CheckpointSettings}): the {@link ResumePlan} is
 * worked out when the experiment is made, so conflicting settings or unreadable checkpoints are found
 * before any run starts. Runs that finished earlier are skipped ({@link ExperimentResult#skipped()}), except
 * that a RunFinished whose delivery was not confirmed is sent again ({@link CheckpointStore#writeUnsent}),
 * unfinished ones continue with the same runId from their checkpoint. Where records published twice are
 * dropped: see {@link CheckpointStore}.
 */
public final class Experiment {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final Optional<Dataset> testSet;
    private final TelemetrySink sink;
    private final ExperimentListener listener;
    private final Tasks tasks;
    private final ResumePlan plan;
    private final CheckpointStore store;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * An experiment on the data its settings describe: generated (Gauss-k) or read from files (MNIST,
     * CIFAR-10) here, once, and shared by all runs.
     *
     * @throws io.sgdscope.trainer.data.DatasetException when data files are missing or damaged
     */
    public Experiment(TrainerSettings settings, TelemetrySink sink, ExperimentListener listener) {
        this(settings, settings.dataset().load(), sink, listener);
    }

    /**
     * An experiment on a given training set (shared by all runs, read-only) without a test set. The dataset must fit
     * the layers and the batch size.
     */
    public Experiment(TrainerSettings settings, Dataset dataset, TelemetrySink sink, ExperimentListener listener) {
        this(settings, new Splits(dataset, Optional.empty()), sink, listener);
    }

    /**
     * An experiment on given data (loaded with {@code settings.dataset().load()}, or made by hand): the
     * training set and the optional test set are shared by all runs, read-only. Both must fit the layers,
     * and the training set the batch size.
     *
     * @throws IllegalArgumentException for settings of the retired per-run engine ({@link Engine#PER_RUN})
     */
    public Experiment(TrainerSettings settings, Splits data, TelemetrySink sink, ExperimentListener listener) {
        this(requireEnsemble(settings), data, sink, listener, Experiment::blocks);
    }

    /**
     * An experiment whose runs are trained by {@code tasks}: the ensemble engine's blocks, or, from the trainer's
     * tests, the retired per-run engine's runs (its reference).
     */
    Experiment(TrainerSettings settings, Splits data, TelemetrySink sink, ExperimentListener listener, Tasks tasks) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(data, "data");
        this.dataset = data.train();
        this.testSet = data.test();
        this.sink = Objects.requireNonNull(sink, "sink");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.tasks = Objects.requireNonNull(tasks, "tasks");
        List<Integer> layers = settings.layers();
        for (Dataset set : testSet.isPresent() ? List.of(dataset, testSet.get()) : List.of(dataset)) {
            if (layers.get(0) != set.inputDimension() || layers.get(layers.size() - 1) != set.classes()) {
                throw new IllegalArgumentException("layers " + layers + " do not fit the " + (set == dataset ? "training"
                        : "test") + " set (d = " + set.inputDimension() + ", k = " + set.classes() + ")");
            }
        }
        if (settings.batchSize() > dataset.samples()) {
            throw new IllegalArgumentException("batch size " + settings.batchSize()
                    + " is larger than the training set (n = " + dataset.samples() + ")");
        }
        this.plan = ResumePlan.of(settings);
        this.store = settings.checkpoint().enabled()
                ? new CheckpointStore(settings.checkpoint().dir(), settings.experimentId()) : null;
    }

    /**
     * What the workers of an experiment train: a list of tasks, each training some of its runs (a block, or one run)
     * and giving their results, taken in order, one at a time per worker. A task that throws a RuntimeException
     * cancels the experiment ({@link #run()} rethrows it); an Error is a crash.
     */
    @FunctionalInterface
    interface Tasks {
        /**
         * The tasks of {@code experiment}'s runs that have not finished in an earlier process; none started yet.
         *
         * @param workers the worker threads that will take them
         */
        List<Supplier<List<RunResult>>> of(Experiment experiment, Provenance provenance, int workers);
    }

    /** The ensemble engine's tasks: the blocks of the runs to train ({@link EnsembleBlocks}), each trained batched. */
    private static List<Supplier<List<RunResult>>> blocks(Experiment experiment, Provenance provenance, int workers) {
        int block = EnsembleBlock.blockSize(experiment.settings, workers, experiment.dataset, experiment.testSet);
        List<Supplier<List<RunResult>>> blocks = new ArrayList<>();
        for (EnsembleBlocks.Spec spec : EnsembleBlocks.of(experiment.settings, experiment.plan, experiment.store, block)) {
            blocks.add(() -> new EnsembleBlock(experiment.settings, experiment.dataset, experiment.testSet, spec,
                    provenance, experiment.sink, experiment.listener, experiment::isCancelled, experiment.store).call());
        }
        return blocks;
    }

    private static TrainerSettings requireEnsemble(TrainerSettings settings) {
        if (settings.engine() != Engine.ENSEMBLE) {
            throw new IllegalArgumentException("the " + settings.engine() + " engine was retired: an experiment trains "
                    + "with the ensemble engine (a block of one run gives the per-run engine's records)");
        }
        return settings;
    }

    /** A finished run whose RunFinished was not delivered (it failed, or the trainer stopped first): sends it again. */
    private void resendUnsentFinish(String runId) {
        Optional<io.sgdscope.schemas.RunFinished> unsent = store.unsent(runId);
        if (unsent.isPresent()) {
            sink.runFinished(unsent.get());
            RunDelivery.confirmFinished(sink, store, runId);
        }
    }

    /** The run id of run {@code runIndex}: experimentId + "-r" + the index zero-padded to 5 digits. */
    public static String runId(String experimentId, int runIndex) {
        return experimentId + "-r" + String.format("%05d", runIndex);
    }

    /**
     * The seed of run {@code runIndex}: the (runIndex + 1)-th output of a SplitMix64 generator
     * seeded with {@code baseSeed}, so neighbouring runs get unrelated seeds. The run splits its
     * seed into an initialisation stream and a minibatch stream.
     */
    public static long runSeed(long baseSeed, int runIndex) {
        long z = baseSeed + (runIndex + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public TrainerSettings settings() {
        return settings;
    }

    /** The training set all runs share. */
    public Dataset dataset() {
        return dataset;
    }

    /** What this experiment does with each run given the checkpoints (all fresh without checkpoints). */
    public ResumePlan plan() {
        return plan;
    }

    /** The test set all runs are evaluated on, if any. */
    public Optional<Dataset> testSet() {
        return testSet;
    }

    /** Where the runs publish. */
    TelemetrySink sink() {
        return sink;
    }

    ExperimentListener listener() {
        return listener;
    }

    /** The experiment's checkpoints, or null without. */
    CheckpointStore store() {
        return store;
    }

    /** Stops the runs in progress at their next iteration boundary; no further runs start. Thread-safe. */
    public void cancel() {
        cancelled.set(true);
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /**
     * Trains all runs (of its shard, if sharded) and returns when every started run has published its RunFinished. Can be
     * called once.
     *
     * @throws TelemetryException if the sink failed for good (the experiment was cancelled)
     * @throws IllegalStateException if called a second time
     */
    public ExperimentResult run() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("an experiment runs once");
        }
        long startNanos = System.nanoTime();
        int workers = Math.min(settings.workers(), settings.shardRuns());
        Nd4jThreads.configureFor(workers);
        Provenance provenance = Provenance.detect();

        RunResult[] results = new RunResult[settings.runs()];
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        int skipped = 0;
        for (int index : plan.finished()) {                                         // finished in an earlier process
            skipped++;
            try {
                resendUnsentFinish(runId(settings.experimentId(), index));
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
                cancel();
            }
        }
        List<Supplier<List<RunResult>>> work = tasks.of(this, provenance, workers);
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, new WorkerThreads(settings.experimentId()));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                futures.add(pool.submit(() -> {
                    int task;
                    while (!cancelled.get() && (task = next.getAndIncrement()) < work.size()) {
                        try {
                            for (RunResult result : work.get(task).get()) {
                                results[result.runIndex()] = result;
                            }
                        } catch (RuntimeException e) {
                            // The sink refused a RunStarted/RunFinished, or a listener failed on it: stop everything.
                            failure.compareAndSet(null, e);
                            cancel();
                        }
                    }
                }));
            }
            Throwable crashed = null;
            for (Future<?> future : futures) {
                Throwable error = awaitUninterruptibly(future);
                crashed = crashed == null ? error : crashed;
            }
            if (crashed != null) {
                throw new IllegalStateException("a trainer worker crashed: " + crashed, crashed);
            }
        } finally {
            pool.shutdown();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        List<RunResult> finished = new ArrayList<>();
        for (RunResult result : results) {
            if (result != null) {
                finished.add(result);
            }
        }
        return new ExperimentResult(settings, finished, skipped, (System.nanoTime() - startNanos) / 1e9);
    }

    /**
     * Waits for a worker to end; returns what it died of (an Error out of a run: a crash), or null. A crash
     * cancels the experiment; the other workers are still awaited, so that their runs end (or are suspended)
     * before {@link #run()} returns.
     */
    private Throwable awaitUninterruptibly(Future<?> future) {
        boolean interrupted = false;
        Throwable crash = null;
        while (true) {
            try {
                future.get();
                break;
            } catch (InterruptedException e) {
                // Ctrl-C style: stop the runs at the next iteration, but wait for their RunFinished.
                interrupted = true;
                cancel();
            } catch (ExecutionException e) {
                cancel();
                crash = e.getCause();
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return crash;
    }

    /** Names the worker threads after the experiment (thread dumps, logs). */
    private static final class WorkerThreads implements java.util.concurrent.ThreadFactory {
        private final String prefix;
        private final AtomicInteger count = new AtomicInteger();

        WorkerThreads(String experimentId) {
            this.prefix = "sgdscope-" + experimentId + "-worker-";
        }

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, prefix + count.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        }
    }
}
