package io.sgdscope.streams.deviation;

import static java.util.Locale.ROOT;

import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.runs.RunInput;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deviation app's processor, keyed by frame key (a block's first run id; a run's own id when it publishes
 * per run): reads a block's state ({@link BlockDeviation}, one store entry per block, written once per commit),
 * applies a frame to it column by column ({@link BlockStep}, the checks in {@link RunChecks}), notes starts and
 * finishes, and sends the alerts raised to sgd.alerts. Counters are in {@link DeviationMeters}, the runs whose
 * RunFinished waits for iterations in {@link AwaitedFinishes}.
 *
 * <p>A RunFinished raises its DIVERGENCE alert (status DIVERGED) and closes the last step with f(θ_T) at once;
 * the run is finished (later records are late, a watched run's gauges go) once the iterations it says were
 * published have all arrived, or after {@link DeviationSettings#finishWait()}.
 */
final class DeviationProcessor implements Processor<String, RunInput, String, DeviationAlert> {

    private static final Logger log = LoggerFactory.getLogger(DeviationProcessor.class);

    private final DeviationSettings settings;
    private final MeterGroups watchedGauges;
    private final AlertLog alertLog;
    private final Clock clock;
    private final DeviationMeters meters;
    private final RunChecks checks;
    private final BlockStep step;
    private final AwaitedFinishes awaited;
    /** Watched runs with gauges set by this processor (removed when it closes: the task may move away). */
    private final Set<String> watchedHere = new HashSet<>();
    private WriteBackStore<BlockDeviation> blocks;
    private ProcessorContext<String, DeviationAlert> context;
    /** The timestamp of the record being processed, which the alerts it raises carry. */
    private long timestamp;

    DeviationProcessor(DeviationSettings settings, io.micrometer.core.instrument.MeterRegistry registry,
                       MeterGroups watchedGauges, AlertLog alertLog, Clock clock) {
        this.settings = settings;
        this.watchedGauges = watchedGauges;
        this.alertLog = alertLog;
        this.clock = clock;
        this.meters = new DeviationMeters(registry);
        this.checks = new RunChecks(settings, this::raise, this::watch);
        this.step = new BlockStep(checks, settings.window());
        this.awaited = new AwaitedFinishes(settings.finishWait().toMillis());
    }

    @Override
    public void init(ProcessorContext<String, DeviationAlert> context) {
        this.context = context;
        this.blocks = context.getStateStore(DeviationTopology.RUN_DEVIATION_STORE);
        this.watchedHere.clear();
        this.awaited.clear();
        if (!settings.finishWait().isZero()) {
            long now = context.currentSystemTimeMs();
            blocks.forEachCommitted((key, block) -> {
                for (int i = 0; i < block.size(); i++) {
                    RunDeviation run = block.run(i);
                    if (run.awaitedIterations >= 0 && !run.finished()) {
                        awaited.await(key, run.runId != null ? run.runId : key, now);
                    }
                }
            });
            Duration check = settings.finishWait().dividedBy(4);
            check = check.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1)
                    : check.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : check;
            context.schedule(check, PunctuationType.WALL_CLOCK_TIME, this::finishAfterWait);
        }
    }

    @Override
    public void process(Record<String, RunInput> record) {
        timestamp = record.timestamp();
        RunInput input = record.value();
        if (input instanceof RunInput.Frames frames) {
            // The block's key as the frame travelled: its first run may have ended since the block began.
            onFrame(record.key() != null ? record.key() : frames.frame().key(), frames.frame());
        } else if (input instanceof RunInput.Started started) {
            onStarted(started);
        } else if (input instanceof RunInput.Finished finished) {
            onFinished(finished);
        }
    }

    private void onFrame(String key, Frame frame) {
        DeviationMeters.Experiment experiment = meters.of(frame.experimentId());
        experiment.records(frame.size());
        if (frame.iteration() < 0) {
            return;
        }
        BlockDeviation block = block(key, frame.experimentId());
        step.apply(block, frame, run -> finish(key, run));
        checks.tally().addTo(experiment);
        blocks.put(key, block);
    }

    private void onStarted(RunInput.Started started) {
        String key = started.frameKey();
        BlockDeviation block = block(key, started.experimentId());
        RunDeviation run = block.run(started.runId(), started.experimentId(), settings.window());
        if (run.started()) {
            return;
        }
        boolean watched = started.runIndex() >= 0 && started.runIndex() < settings.watchedRuns() && !run.finished();
        run.start(started.runIndex(), started.optimizer(), started.vanilla(), started.parameterCount(), watched);
        blocks.put(key, block);
    }

    private void onFinished(RunInput.Finished finished) {
        String key = finished.frameKey();
        BlockDeviation block = block(key, finished.experimentId());
        RunDeviation run = block.run(finished.runId(), finished.experimentId(), settings.window());
        if (run.finished()) {
            return;
        }
        DeviationMeters.Experiment experiment = meters.of(finished.experimentId());
        if (finished.status() == RunStatus.DIVERGED && !run.diverged()) {
            run.markDiverged();
            raise(run, Math.max(0, finished.iterations() - 1), DeviationCheck.DIVERGENCE, Double.NaN, Double.NaN,
                    String.format(ROOT, "run %s ended DIVERGED after %d iterations (RunFinished): %s", run.runId,
                            finished.iterations(), finished.message() == null ? "no reason given" : finished.message()));
        }
        Double lossAfter = finished.lossAfterLastIteration();
        int end = finished.iterations();
        if (lossAfter != null && !run.iterations.contains(end)) {
            run.addEnd(end, lossAfter, checks); // f(θ_T) closes the step T − 1 → T (see RunInput.Finished)
        }
        checks.tally().addTo(experiment);
        if (settings.finishWait().isZero() || run.arrivedBelow(end)) {
            finish(key, run);
        } else {
            run.awaitedIterations = end;
            awaited.await(key, run.runId, context.currentSystemTimeMs());
        }
        blocks.put(key, block);
    }

    /** The run is over: later records are late, its gauges go. */
    private void finish(String key, RunDeviation run) {
        if (run.awaitedIterations >= 0) {
            awaited.remove(key, run.runId);
        }
        run.finish();
        watchedGauges.remove(run.runId);
        watchedHere.remove(run.runId);
    }

    /** Finishes the runs whose RunFinished waited the whole {@link DeviationSettings#finishWait()}; one log line per experiment. */
    private void finishAfterWait(long now) {
        Map<String, List<String>> finishedNow = new TreeMap<>();
        for (AwaitedFinishes.Awaited waiting : awaited.expired(now)) {
            BlockDeviation block = blocks.get(waiting.frameKey());
            RunDeviation run = block == null ? null : block.find(waiting.runId());
            if (run == null || run.finished() || run.awaitedIterations < 0) {
                continue; // e.g. its RunFinished was rolled back with an aborted transaction
            }
            int missing = run.awaitedIterations;
            for (int t = 0; t < run.awaitedIterations && missing > 0; t++) {
                missing -= run.iterations.contains(t) ? 1 : 0;
            }
            finishedNow.computeIfAbsent(run.experimentId, id -> new java.util.ArrayList<>())
                    .add(run.runId + " (" + missing + " of " + run.awaitedIterations + " missing)");
            run.awaitedIterations = -1;
            finish(waiting.frameKey(), run);
            blocks.put(waiting.frameKey(), block);
        }
        finishedNow.forEach((experimentId, runs) -> log.info(
                "{} run(s) of experiment {} finished without all the iterations their RunFinished said were published, "
                        + "after waiting {} s for them (e.g. {})", runs.size(), experimentId,
                settings.finishWait().toSeconds(), runs.get(0)));
    }

    private BlockDeviation block(String key, String experimentId) {
        BlockDeviation block = blocks.get(key);
        if (block == null) {
            return BlockDeviation.fresh(experimentId);
        }
        block.adoptKey(key);
        return block;
    }

    private void raise(RunDeviation run, int t, DeviationCheck check, double observed, double bound, String message) {
        DeviationAlert alert = DeviationAlert.newBuilder()
                .setRunId(run.runId)
                .setExperimentId(run.experimentId)
                .setIteration(t)
                .setCheck(check)
                .setObserved(observed)
                .setBound(bound)
                .setSeverity(AlertLog.severityOf(check))
                .setMessage(message)
                .setRaisedAtMillis(clock.millis())
                .build();
        meters.of(run.experimentId).alert(check).increment();
        alertLog.add(alert);
        context.forward(new Record<>(run.runId, alert, timestamp));
    }

    private void watch(RunDeviation run, String name, Tags tags, String description, double value) {
        watchedGauges.set(run.runId, name, tags, description, value);
        watchedHere.add(run.runId);
    }

    @Override
    public void close() {
        watchedHere.forEach(watchedGauges::remove);
        watchedHere.clear();
    }
}
