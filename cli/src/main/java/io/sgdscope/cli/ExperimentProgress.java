package io.sgdscope.cli;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.trainer.ExperimentListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Progress of an experiment in the terminal: runs done, iterations per second, and a line from the
 * caller (the demo shows the current median loss as the streams app computed it). On a terminal one
 * line is rewritten every second; otherwise (a log, a pipe) a line is printed every 5 seconds. Iterations are
 * counted per run, from per-run records and frames alike.
 */
final class ExperimentProgress implements ExperimentListener, AutoCloseable {

    private final int runs;
    private final int lastIteration;
    private final PrintWriter out;
    private final Supplier<String> extra;
    private final boolean terminal = System.console() != null;
    private final LongAdder iterations = new LongAdder();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger reachedLastIteration = new AtomicInteger();
    private final Map<RunStatus, AtomicInteger> finished = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "sgdscope-progress");
        thread.setDaemon(true);
        return thread;
    });
    private final long startNanos = System.nanoTime();
    private long lastNanos = startNanos;
    private long lastIterations;

    ExperimentProgress(int runs, int iterationsPerRun, PrintWriter out, Supplier<String> extra) {
        this.runs = runs;
        this.lastIteration = iterationsPerRun - 1;
        this.out = out;
        this.extra = extra;
    }

    void start() {
        long period = terminal ? 1 : 5;
        ticker.scheduleAtFixedRate(this::print, period, period, TimeUnit.SECONDS);
    }

    @Override
    public void runStarted(RunStarted record) {
        started.incrementAndGet();
    }

    @Override
    public void iterationDone(IterationMetrics record) {
        iterations.increment();
        if (record.getIteration() == lastIteration) {
            reachedLastIteration.incrementAndGet();
        }
    }

    /** A frame of the ensemble engine: one iteration of each of its runs (counted without a row per run). */
    @Override
    public void iterationsDone(Frame frame) {
        iterations.add(frame.size());
        if (frame.iteration() == lastIteration) {
            reachedLastIteration.addAndGet(frame.size());
        }
    }

    @Override
    public void runFinished(RunFinished record) {
        finished.computeIfAbsent(record.getStatus(), s -> new AtomicInteger()).incrementAndGet();
    }

    int finished(RunStatus status) {
        AtomicInteger count = finished.get(status);
        return count == null ? 0 : count.get();
    }

    /** Runs whose record of the last iteration T-1 was published. */
    int reachedLastIteration() {
        return reachedLastIteration.get();
    }

    long iterations() {
        return iterations.sum();
    }

    private synchronized void print() {
        long now = System.nanoTime();
        long total = iterations.sum();
        double rate = (total - lastIterations) / ((now - lastNanos) / 1e9);
        lastNanos = now;
        lastIterations = total;
        int done = finished.values().stream().mapToInt(AtomicInteger::get).sum();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "runs %d/%d done", done, runs));
        int diverged = finished(RunStatus.DIVERGED);
        if (diverged > 0) {
            line.append(String.format(Locale.ROOT, " (%d diverged)", diverged));
        }
        line.append(String.format(Locale.ROOT, " | %,d iterations | %,.0f it/s", total, rate));
        String more = extra.get();
        if (more != null && !more.isEmpty()) {
            line.append(" | ").append(more);
        }
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Stops the ticker and prints the last progress line. */
    @Override
    public synchronized void close() {
        ticker.shutdownNow();
        print();
        if (terminal) {
            out.println();
            out.flush();
        }
    }

    double wallSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
