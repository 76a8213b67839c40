package io.sgdscope.trainer.telemetry;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Keeps every record in memory, in arrival order (tests, small local experiments). Thread-safe. */
public final class InMemoryTelemetrySink implements TelemetrySink {

    private final List<RunStarted> started = new ArrayList<>();
    private final List<IterationMetrics> iterations = new ArrayList<>();
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

    public synchronized List<IterationMetrics> iterations() {
        return List.copyOf(iterations);
    }

    /** The iteration records of one run, in the order they were published. */
    public synchronized List<IterationMetrics> iterations(String runId) {
        List<IterationMetrics> of = new ArrayList<>();
        for (IterationMetrics record : iterations) {
            if (record.getRunId().equals(runId)) {
                of.add(record);
            }
        }
        return of;
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
