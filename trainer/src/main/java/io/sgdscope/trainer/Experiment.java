package io.sgdscope.trainer;

import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.telemetry.TelemetryException;
import io.sgdscope.trainer.telemetry.TelemetrySink;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
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
 * <p>{@link #cancel()} stops the runs in progress at their next iteration boundary (they end
 * CANCELLED) and starts no further runs. A {@link TelemetryException} (the sink cannot take a
 * RunStarted or RunFinished at all), or an exception of the listener on a RunFinished, cancels the
 * experiment and is rethrown by {@link #run()} once the other runs have ended. Any other failure
 * inside a run ends only that run, as FAILED.
 */
public final class Experiment {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final TelemetrySink sink;
    private final ExperimentListener listener;
    private final StepObserver observer;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();

    /** An experiment on the Gauss-k training set its settings describe. */
    public Experiment(TrainerSettings settings, TelemetrySink sink, ExperimentListener listener) {
        this(settings, GaussK.generate(settings.dataset()), sink, listener, StepObserver.none());
    }

    /**
     * An experiment on a given training set (shared by all runs, read-only), with an observer of
     * every step. The dataset must fit the layers and the batch size.
     */
    public Experiment(TrainerSettings settings, Dataset dataset, TelemetrySink sink, ExperimentListener listener,
                      StepObserver observer) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.observer = Objects.requireNonNull(observer, "observer");
        List<Integer> layers = settings.layers();
        if (layers.get(0) != dataset.inputDimension() || layers.get(layers.size() - 1) != dataset.classes()) {
            throw new IllegalArgumentException("layers " + layers + " do not fit the dataset (d = "
                    + dataset.inputDimension() + ", k = " + dataset.classes() + ")");
        }
        if (settings.batchSize() > dataset.samples()) {
            throw new IllegalArgumentException("batch size " + settings.batchSize()
                    + " is larger than the training set (n = " + dataset.samples() + ")");
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

    /** Stops the runs in progress at their next iteration boundary; no further runs start. Thread-safe. */
    public void cancel() {
        cancelled.set(true);
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /**
     * Trains all runs and returns when every started run has published its RunFinished. Can be called once.
     *
     * @throws TelemetryException if the sink failed for good (the experiment was cancelled)
     * @throws IllegalStateException if called a second time
     */
    public ExperimentResult run() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("an experiment runs once");
        }
        long startNanos = System.nanoTime();
        int workers = Math.min(settings.workers(), settings.runs());
        Nd4jThreads.configureFor(workers);
        Provenance provenance = Provenance.detect();

        RunResult[] results = new RunResult[settings.runs()];
        AtomicInteger nextRun = new AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(workers, new WorkerThreads(settings.experimentId()));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                futures.add(pool.submit(() -> {
                    int index;
                    while (!cancelled.get() && (index = nextRun.getAndIncrement()) < settings.runs()) {
                        TrainingRun run = new TrainingRun(settings, dataset, index, provenance, sink, listener, observer,
                                cancelled::get);
                        try {
                            results[index] = run.call();
                        } catch (RuntimeException e) {
                            // The sink refused a RunStarted/RunFinished, or a listener failed on it: stop everything.
                            failure.compareAndSet(null, e);
                            cancel();
                        }
                    }
                }));
            }
            for (Future<?> future : futures) {
                awaitUninterruptibly(future);
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
        return new ExperimentResult(settings, finished, (System.nanoTime() - startNanos) / 1e9);
    }

    private void awaitUninterruptibly(Future<?> future) {
        boolean interrupted = false;
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
                throw new IllegalStateException("a trainer worker failed", e.getCause());
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
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
