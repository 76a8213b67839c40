package io.sgdscope.trainer;

import io.sgdscope.client.TelemetryException;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
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

/**
 * R runs of one configuration that differ only in their seed, on one shared training set: the
 * ensemble whose quantiles across runs the paper reads (Sec. 5.1, Fig. 8).
 *
 * <p>Runs are trained by {@code settings.workers()} threads, each taking the next run index until
 * none is left; every run is deterministic for (settings, run index), so results do not depend on
 * the number of workers. ND4J's own op threads are set to cores / workers (see {@link Nd4jThreads}).
 *
 * <p>A sharded experiment ({@link TrainerSettings#shard()}, {@code --shard i/N}) trains only its shard's run
 * indices, [floor((i-1) R / N), floor(i R / N)), each exactly as the unsharded experiment trains it (same run id,
 * seed and minibatch stream); the ensemble engine makes its blocks of the shard's runs. Every RunStarted still
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
    private final StepObserver observer;
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
        this(settings, settings.dataset().load(), sink, listener, StepObserver.none());
    }

    /**
     * An experiment on a given training set (shared by all runs, read-only) without a test set, with an
     * observer of every step. The dataset must fit the layers and the batch size.
     */
    public Experiment(TrainerSettings settings, Dataset dataset, TelemetrySink sink, ExperimentListener listener,
                      StepObserver observer) {
        this(settings, new Splits(dataset, Optional.empty()), sink, listener, observer);
    }

    /**
     * An experiment on given data (loaded with {@code settings.dataset().load()}, or made by hand): the
     * training set and the optional test set are shared by all runs, read-only. Both must fit the layers,
     * and the training set the batch size.
     */
    public Experiment(TrainerSettings settings, Splits data, TelemetrySink sink, ExperimentListener listener,
                      StepObserver observer) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(data, "data");
        this.dataset = data.train();
        this.testSet = data.test();
        this.sink = Objects.requireNonNull(sink, "sink");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.observer = Objects.requireNonNull(observer, "observer");
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

    /** A finished run whose RunFinished was not delivered (it failed, or the trainer stopped first): sends it again. */
    private void resendUnsentFinish(String runId) {
        Optional<io.sgdscope.schemas.RunFinished> unsent = store.unsent(runId);
        if (unsent.isPresent()) {
            sink.runFinished(unsent.get());
            TrainingRun.confirmDelivered(sink, store, runId);
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
        int firstRun = settings.firstRun();
        int endRun = settings.endRun();
        int workers = Math.min(settings.workers(), settings.shardRuns());
        Nd4jThreads.configureFor(workers);
        Provenance provenance = Provenance.detect();

        RunResult[] results = new RunResult[settings.runs()];
        AtomicInteger nextRun = new AtomicInteger(firstRun);
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        AtomicInteger skipped = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, new WorkerThreads(settings.experimentId()));
        try {
            List<Future<?>> futures = new ArrayList<>();
            if (settings.engine() == Engine.ENSEMBLE) {
                int block = EnsembleBlock.blockSize(settings, workers, dataset, testSet);
                for (int index : plan.finished()) {                                 // finished in an earlier process
                    skipped.incrementAndGet();
                    try {
                        resendUnsentFinish(runId(settings.experimentId(), index));
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                        cancel();
                    }
                }
                List<EnsembleBlocks.Spec> blocks = EnsembleBlocks.of(settings, plan, store, block);
                AtomicInteger nextBlock = new AtomicInteger();
                for (int w = 0; w < workers; w++) {
                    futures.add(pool.submit(() -> {
                        int next;
                        while (!cancelled.get() && (next = nextBlock.getAndIncrement()) < blocks.size()) {
                            try {
                                EnsembleBlock runs = new EnsembleBlock(settings, dataset, testSet, blocks.get(next),
                                        provenance, sink, listener, cancelled::get, store);
                                for (RunResult result : runs.call()) {
                                    results[result.runIndex()] = result;
                                }
                            } catch (RuntimeException e) {
                                failure.compareAndSet(null, e);
                                cancel();
                            }
                        }
                    }));
                }
            }
            for (int w = 0; w < workers && settings.engine() == Engine.PER_RUN; w++) {
                futures.add(pool.submit(() -> {
                    int index;
                    while (!cancelled.get() && (index = nextRun.getAndIncrement()) < endRun) {
                        String runId = runId(settings.experimentId(), index);
                        if (plan.isFinished(index)) {
                            skipped.incrementAndGet();                              // finished in an earlier process
                            try {
                                resendUnsentFinish(runId);
                            } catch (RuntimeException e) {
                                failure.compareAndSet(null, e);
                                cancel();
                            }
                            continue;
                        }
                        try {
                            RunCheckpoint from = plan.isResumable(index) ? store.read(runId).orElseThrow(() ->
                                    new CheckpointException("the checkpoint of " + runId + " disappeared from " + store.folder()))
                                    : null;
                            TrainingRun run = new TrainingRun(settings, dataset, testSet, index, provenance, sink, listener,
                                    observer, cancelled::get, store, from);
                            results[index] = run.call();
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
        return new ExperimentResult(settings, finished, skipped.get(), (System.nanoTime() - startNanos) / 1e9);
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
