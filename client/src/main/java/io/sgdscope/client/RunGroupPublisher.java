package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Publishes runs of one experiment that advance together (an ensemble trained in lockstep): each iteration of all
 * of them goes out as IterationFrames ({@code schemas/.../frames/Frame}, encoded by {@code TelemetrySerdes.frames()})
 * instead of one IterationMetrics per run. The runs are cut, in the order given, into fixed slices of at most
 * {@link #MAX_FRAME_RUNS}; each slice has its frame and its frame key, its first run's id, for the group's whole life,
 * which every run's RunStarted and RunFinished name ({@code frameKey}). A finished run is left out of later frames.
 * Not thread-safe: call it from the training loop's thread.
 */
public final class RunGroupPublisher implements AutoCloseable {

    /**
     * Runs per frame at most: the streams apps keep the state of the runs under one frame key in one store entry,
     * which must stay under Kafka's 1 MiB record limit (about 240 bytes a run in the deviation app).
     */
    public static final int MAX_FRAME_RUNS = 1000;

    private final TelemetrySink sink;
    private final List<RunDescription> runs;
    private final String experimentId;
    private final GradientTracker[] trackers;
    private final String[] frameKeys;
    private final RunFinished[] finished;
    private final long startNanos = System.nanoTime();
    private int published;

    RunGroupPublisher(TelemetrySink sink, List<RunDescription> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("a run group has at least one run");
        }
        this.sink = sink;
        this.runs = List.copyOf(runs);
        this.experimentId = runs.get(0).experimentId();
        Set<String> ids = new HashSet<>();
        for (RunDescription run : runs) {
            if (!run.experimentId().equals(experimentId)) {
                throw new IllegalArgumentException("a run group holds one experiment: " + run.runId() + " is not of "
                        + experimentId);
            }
            if (!ids.add(run.runId())) {
                throw new IllegalArgumentException("run " + run.runId() + " is twice in the group");
            }
        }
        int n = runs.size();
        this.trackers = new GradientTracker[n];
        this.frameKeys = new String[n];
        this.finished = new RunFinished[n];
        for (int i = 0; i < n; i++) {
            RunDescription run = runs.get(i);
            trackers[i] = new GradientTracker(Math.toIntExact(run.model().parameterCount()));
            frameKeys[i] = runs.get(i - i % MAX_FRAME_RUNS).runId();
        }
        for (int i = 0; i < n; i++) {
            sink.runStarted(ClientRecords.started(runs.get(i), frameKeys[i]));
        }
    }

    /** The runs' ids, in the group's order (the order of the arrays handed to {@link #iteration}). */
    public List<String> runIds() {
        return runs.stream().map(RunDescription::runId).toList();
    }

    /** The frame key of run i: the id of the first run of its slice. */
    public String frameKey(int run) {
        return frameKeys[run];
    }

    /** The iterations published so far (the next iteration's t). */
    public int iterations() {
        return published;
    }

    /**
     * Publishes iteration t of every run not finished: one frame per slice. Element i of each list or array belongs
     * to run i of the group; entries of finished runs are ignored (may be null).
     *
     * @return the statistics computed for each run (float64), null for finished runs
     */
    public GradientStatistics[] iteration(List<Step> steps, double[][] thetas, double[][] gradients) {
        int n = runs.size();
        if (steps.size() != n || thetas.length != n || gradients.length != n) {
            throw new IllegalArgumentException("the group has " + n + " runs: give a step, parameters and a gradient for "
                    + "each (got " + steps.size() + ", " + thetas.length + ", " + gradients.length + ")");
        }
        GradientStatistics[] statistics = new GradientStatistics[n];
        for (int start = 0; start < n; start += MAX_FRAME_RUNS) {
            List<IterationMetrics> rows = new ArrayList<>();
            for (int i = start; i < Math.min(n, start + MAX_FRAME_RUNS); i++) {
                if (finished[i] != null) {
                    continue;
                }
                statistics[i] = trackers[i].next(thetas[i], gradients[i]);
                rows.add(ClientRecords.iteration(runs.get(i).runId(), experimentId, published, steps.get(i), statistics[i]));
            }
            if (!rows.isEmpty()) {
                sink.frame(frameKeys[start], Frame.of(rows));
            }
        }
        published++;
        return statistics;
    }

    /** Finishes run i (it is left out of later frames); a second call returns the first's record. */
    public RunFinished finish(int run, RunStatus status, Double finalLoss, String message) {
        if (finished[run] == null) {
            String runId = runs.get(run).runId();
            RunFinished record = ClientRecords.finished(runId, experimentId, status, published,
                    (System.nanoTime() - startNanos) / 1e9, finalLoss, sink.droppedRecords(runId), message, frameKeys[run]);
            finished[run] = record;
            sink.runFinished(record);
        }
        return finished[run];
    }

    /** Finishes every run not finished yet as CANCELLED. */
    @Override
    public void close() {
        for (int i = 0; i < runs.size(); i++) {
            if (finished[i] == null) {
                finish(i, RunStatus.CANCELLED, null, "closed after " + published + " iterations without finish()");
            }
        }
    }
}
