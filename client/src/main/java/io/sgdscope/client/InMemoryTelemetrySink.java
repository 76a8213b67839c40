package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.frames.Frame;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Keeps every record in memory, in arrival order (tests, small local experiments). Thread-safe. Frames are kept as
 * they came ({@link #frames()}, with their keys in {@link #frameKeys()}); {@link #iterations()} shows per-run
 * records and the rows of frames alike, as the IterationMetrics each run would have published alone.
 */
public final class InMemoryTelemetrySink implements TelemetrySink {

    private final List<RunStarted> started = new ArrayList<>();
    /** IterationMetrics and Frame objects, in arrival order. */
    private final List<Object> iterations = new ArrayList<>();
    private final List<Frame> frames = new ArrayList<>();
    private final List<String> frameKeys = new ArrayList<>();
    private final List<SpectrumSnapshot> spectra = new ArrayList<>();
    private final List<RunFinished> finished = new ArrayList<>();

    @Override
    public synchronized void runStarted(RunStarted record) {
        started.add(record);
    }

    @Override
    public synchronized void iteration(IterationMetrics record) {
        iterations.add(record);
    }

    @Override
    public synchronized void frame(String frameKey, Frame frame) {
        iterations.add(frame);
        frames.add(frame);
        frameKeys.add(frameKey);
    }

    @Override
    public synchronized void spectrum(SpectrumSnapshot record) {
        spectra.add(record);
    }

    @Override
    public synchronized void runFinished(RunFinished record) {
        finished.add(record);
    }

    public synchronized List<RunStarted> runsStarted() {
        return List.copyOf(started);
    }

    /** Every run's iteration records in arrival order, a frame's rows in its run order. */
    public synchronized List<IterationMetrics> iterations() {
        List<IterationMetrics> all = new ArrayList<>();
        for (Object item : iterations) {
            if (item instanceof Frame frame) {
                all.addAll(frame.rows());
            } else {
                all.add((IterationMetrics) item);
            }
        }
        return all;
    }

    /** The iteration records of one run (its own, or its rows of frames), in the order they were published. */
    public synchronized List<IterationMetrics> iterations(String runId) {
        List<IterationMetrics> of = new ArrayList<>();
        for (Object item : iterations) {
            if (item instanceof Frame frame) {
                for (int i = 0; i < frame.size(); i++) {
                    if (frame.runId(i).equals(runId)) {
                        of.add(frame.row(i));
                    }
                }
            } else if (((IterationMetrics) item).getRunId().equals(runId)) {
                of.add((IterationMetrics) item);
            }
        }
        return of;
    }

    /** The frames, in arrival order. */
    public synchronized List<Frame> frames() {
        return List.copyOf(frames);
    }

    /** The key each frame of {@link #frames()} was handed over with, in the same order. */
    public synchronized List<String> frameKeys() {
        return List.copyOf(frameKeys);
    }

    /** The spectrum snapshots of one run, in the order they were published. */
    public synchronized List<SpectrumSnapshot> spectra(String runId) {
        List<SpectrumSnapshot> of = new ArrayList<>();
        for (SpectrumSnapshot record : spectra) {
            if (record.getRunId().equals(runId)) {
                of.add(record);
            }
        }
        return of;
    }

    public synchronized List<RunFinished> runsFinished() {
        return List.copyOf(finished);
    }

    public synchronized Optional<RunStarted> started(String runId) {
        return started.stream().filter(r -> r.getRunId().equals(runId)).findFirst();
    }

    public synchronized Optional<RunFinished> finished(String runId) {
        return finished.stream().filter(r -> r.getRunId().equals(runId)).findFirst();
    }
}
