package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.runs.RunInput;
import java.util.ArrayList;
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
 * First step, keyed by frame key (a block's first run id, or the run id of a run that publishes alone):
 * the runs' frames go through the {@link BlockStep} column by column against the block's {@link RunBlock}
 * (one store entry per block), and the values of each (experiment, iteration) gather in {@link Batches}
 * that go on after {@code batchRecords} records or {@code emitInterval} (wall clock). Starts, finishes and
 * snapshots of the block's runs arrive re-keyed by the same key. Run blocks and batches live in
 * changelogged {@link WriteBackStore}s, written once per commit, so that under exactly-once what was
 * counted here and what was sent commit together.
 *
 * <p>A RunFinished whose iteration count exceeds what the run has counted waits in the run's state (it
 * crossed a repartition topic and may overtake the run's last frames, read in place) until those
 * iterations are there, or until the run has been silent for the stall timeout; the run finishes then.
 * With no stall timeout a RunFinished takes effect at once.
 *
 * <p>Outputs: {@link PartialValues} keyed by experiment and iteration, and {@link RunLifecycle} keyed by
 * experiment (the RunStarted of a run of a sharded experiment, a run's first counted iteration, its finish;
 * with a stall timeout, a run that has sent nothing for that long ({@link StallTracker}) and its first record
 * after that).
 */
final class RunValuesProcessor implements Processor<String, RunInput, String, Object> {

    private static final Logger log = LoggerFactory.getLogger(RunValuesProcessor.class);
    /** Blocks whose state stays decoded in memory between commits (a few hundred bytes per run). */
    static final int CACHED_BLOCKS = 20_000;

    private final QuantilesSettings settings;
    private final int firstIteration;
    private final int lastIteration;
    private final QuantilesMeters meters;
    private final MeterGroups watchedGauges;
    private final Batches batches;
    private final BlockStep step;
    private final StallTracker stalls;
    /** Watched runs whose gauges this task registered. */
    private final Set<String> watchedHere = new HashSet<>();
    private final Batches.Sender sender = this::send;
    private ProcessorContext<String, Object> context;
    private WriteBackStore<RunBlock> blocks;

    /**
     * @param firstIteration the first iteration the app reads (a replay's range; 0 live)
     * @param lastIteration the last iteration the app reads
     */
    RunValuesProcessor(QuantilesSettings settings, int firstIteration, int lastIteration, MeterRegistry registry,
                       MeterGroups watchedGauges) {
        this.settings = settings;
        this.firstIteration = firstIteration;
        this.lastIteration = lastIteration;
        this.meters = new QuantilesMeters(registry);
        this.watchedGauges = watchedGauges;
        this.batches = new Batches(settings.batchRecords());
        this.step = new BlockStep(settings, batches);
        this.stalls = new StallTracker(settings.runStallTimeout());
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.blocks = context.getStateStore(QuantilesTopology.RUN_STATE_STORE);
        // The stores are restored (and a processor may be initialised again after a dirty close).
        batches.init(context.getStateStore(QuantilesTopology.PARTIAL_VALUES_STORE));
        context.schedule(settings.emitInterval(), PunctuationType.WALL_CLOCK_TIME, now -> batches.sendAll(now, sender));
        stalls.clear();
        if (stalls.enabled()) {
            long now = context.currentSystemTimeMs();
            blocks.forEachCommitted((key, block) -> {
                block.adoptKey(key);
                for (int position = 0; position < block.size(); position++) {
                    RunState run = block.run(position);
                    if (!run.finished() && (!run.iterations().isEmpty() || run.pendingFinish() != null)) {
                        stalls.restored(key, block.experimentId(), position, now);
                    }
                }
            });
            context.schedule(stalls.checkInterval(), PunctuationType.WALL_CLOCK_TIME, this::onSilentRuns);
        }
    }

    @Override
    public void process(Record<String, RunInput> record) {
        RunInput input = record.value();
        // The key the record travelled under is the block's: a frame's Kafka key (its block's first run id, kept
        // even if that run is no longer in the frame), a start's or finish's frameKey, a snapshot's run id.
        String key = record.key() != null ? record.key() : input instanceof RunInput.Started started ? started.frameKey()
                : input instanceof RunInput.Finished finished ? finished.frameKey() : input.runId();
        if (input instanceof RunInput.Frames frames) {
            onFrame(key, frames.frame(), record.timestamp());
        } else if (input instanceof RunInput.Spectrum spectrum) {
            onSpectrum(key, spectrum, record.timestamp());
        } else if (input instanceof RunInput.Started started) {
            onStarted(key, started);
        } else if (input instanceof RunInput.Finished finished) {
            onFinished(key, finished, record.timestamp());
        }
    }

    private void onFrame(String key, Frame frame, long timestamp) {
        String experimentId = frame.experimentId();
        QuantilesMeters.Experiment counters = meters.experiment(experimentId);
        counters.iterationRecords.increment(frame.size());
        meters.recordLatency(timestamp, System.currentTimeMillis());
        int t = frame.iteration();
        if (t < 0) {
            log.warn("skipped the record of run(s) {} .. at iteration {}: iterations start at 0", frame.runId(0), t);
            return;
        }
        RunBlock block = block(key, experimentId);
        int[] positions = block.positionsOf(frame);
        BlockStep.Outcome outcome = step.apply(block, frame, positions);
        if (outcome.late > 0) {
            counters.lateRecords.increment(outcome.late);
        }
        if (outcome.duplicates > 0) {
            counters.duplicateIterations.increment(outcome.duplicates);
        }
        if (outcome.counted > 0) {
            long now = context.currentSystemTimeMs();
            StallTracker.Block activity = stalls.block(key, experimentId);
            boolean watched = false;
            for (int i = 0; i < outcome.size; i++) {
                if (outcome.skipped[i]) {
                    continue;
                }
                int position = positions[i];
                if (stalls.seen(activity, position, now) | outcome.first[i]) {
                    context.forward(new Record<>(experimentId, RunLifecycle.active(experimentId, block.runId(position), t), timestamp));
                }
                watched |= block.run(position).watched();
            }
            if (watched) {
                for (int i = 0; i < outcome.size; i++) {
                    RunState run = block.run(positions[i]);
                    if (!outcome.skipped[i] && run.watched()) {
                        showRolling(block.runId(positions[i]), run);
                    }
                }
            }
            if (block.pendingFinishes() > 0) {
                for (int i = 0; i < outcome.size; i++) {
                    RunState run = block.run(positions[i]);
                    if (!outcome.skipped[i] && run.pendingFinish() != null
                            && run.iterations().count() >= expectedIterations(run.pendingFinish().iterations())) {
                        finish(key, block, positions[i], timestamp);
                    }
                }
            }
            blocks.put(key, block);
        }
        batches.keep(timestamp, sender);
    }

    private void onSpectrum(String key, RunInput.Spectrum snapshot, long timestamp) {
        String experimentId = snapshot.experimentId();
        QuantilesMeters.Experiment counters = meters.experiment(experimentId);
        counters.spectrumRecords.increment();
        if (snapshot.iteration() < 0) {
            log.warn("skipped the snapshot of run {} at iteration {}: iterations start at 0", snapshot.runId(), snapshot.iteration());
            return;
        }
        RunBlock block = block(key, experimentId);
        int position = block.positionOf(snapshot.runId());
        RunState run = block.run(position);
        if (run.finished()) {
            counters.lateRecords.increment();
            return;
        }
        if (!run.snapshots().add(snapshot.iteration())) {
            counters.duplicateSpectra.increment();
            return;
        }
        blocks.put(key, block);
        stalls.signOfLife(stalls.find(key), position, context.currentSystemTimeMs()); // a snapshot is a sign of life too
        step.addSpectrum(experimentId, snapshot);
        batches.keep(timestamp, sender);
    }

    private void onStarted(String key, RunInput.Started started) {
        RunBlock block = block(key, started.experimentId());
        RunState run = block.run(block.positionOf(started.runId()));
        if (run.started()) {
            return;
        }
        run.start(started.runIndex(), started.runIndex() >= 0 && started.runIndex() < settings.watchedRuns() && !run.finished());
        blocks.put(key, block);
        if (started.sharded()) {
            // The frontier of a sharded experiment waits until a run of each of its shards has started.
            context.forward(new Record<>(started.experimentId(), RunLifecycle.started(started.experimentId(), started.runId(),
                    started.shardIndex(), started.shardCount()), context.currentStreamTimeMs()));
        }
    }

    private void onFinished(String key, RunInput.Finished finished, long timestamp) {
        RunBlock block = block(key, finished.experimentId());
        int position = block.positionOf(finished.runId());
        RunState run = block.run(position);
        if (run.finished() || run.pendingFinish() != null) {
            return; // finishes once
        }
        block.deferFinish(position, new RunState.PendingFinish(finished.status(), finished.iterations(),
                finished.lossAfterLastIteration()));
        if (stalls.enabled() && run.iterations().count() < expectedIterations(finished.iterations())) {
            // Its last iterations are still on their way: finish when they are there, or after the stall timeout.
            stalls.awaitingRecords(stalls.block(key, block.experimentId()), position, context.currentSystemTimeMs());
        } else {
            finish(key, block, position, timestamp);
        }
        blocks.put(key, block);
        batches.keep(timestamp, sender);
    }

    /** The run's RunFinished (pending in its state) takes effect; the caller stores the block. */
    private void finish(String key, RunBlock block, int position, long timestamp) {
        RunState run = block.run(position);
        RunState.PendingFinish finish = run.pendingFinish();
        String runId = block.runId(position);
        int last = run.iterations().max();
        Double lossAfter = finish.lossAfterLastIteration();
        if (lossAfter != null && (settings.metrics().contains(TrackedMetric.LOSS_DELTA) || run.watched())
                && run.iterations().add(finish.iterations())) {
            step.closeLastStep(run, finish.iterations(), lossAfter); // f(θ_T) closes the step T − 1 → T
        }
        if (run.watched()) {
            showRolling(runId, run);
            watchedGauges.remove(runId);
            watchedHere.remove(runId);
        }
        block.finish(position);
        stalls.forget(key, position);
        context.forward(new Record<>(block.experimentId(),
                RunLifecycle.finished(block.experimentId(), runId, finish.status(), last), timestamp));
    }

    /**
     * Runs silent for the stall timeout: one with a RunFinished waiting for its last iterations finishes
     * (they are not coming), any other is reported stalled.
     */
    private void onSilentRuns(long now) {
        Map<String, List<String>> stalledNow = new TreeMap<>();
        Map<String, List<String>> finishedNow = new TreeMap<>();
        for (StallTracker.Silent silent : stalls.silentRuns(now)) {
            RunBlock block = blocks.get(silent.blockKey());
            if (block == null) {
                continue;
            }
            block.adoptKey(silent.blockKey());
            RunState run = block.run(silent.position());
            String runId = block.runId(silent.position());
            if (run.finished()) {
                continue;
            }
            if (run.pendingFinish() != null) {
                finish(silent.blockKey(), block, silent.position(), now);
                blocks.put(silent.blockKey(), block);
                finishedNow.computeIfAbsent(silent.experimentId(), id -> new ArrayList<>()).add(runId);
            } else {
                stalledNow.computeIfAbsent(silent.experimentId(), id -> new ArrayList<>()).add(runId);
                context.forward(new Record<>(silent.experimentId(),
                        RunLifecycle.stalled(silent.experimentId(), runId, run.iterations().max()), now));
            }
        }
        batches.keep(now, sender);
        long seconds = settings.runStallTimeout().toSeconds();
        // One line per experiment, not per run: a crashed ensemble trainer stalls thousands of runs at once.
        stalledNow.forEach((experimentId, runIds) -> log.info(
                "{} run(s) of experiment {} sent nothing for {} s and no RunFinished (e.g. {}): counted as stalled until they send again",
                runIds.size(), experimentId, seconds, runIds.get(0)));
        finishedNow.forEach((experimentId, runIds) -> log.warn(
                "{} run(s) of experiment {} finished without all the iterations their RunFinished announced, after waiting {} s "
                        + "for them (e.g. {}): records dropped by the trainer, or lost", runIds.size(), experimentId, seconds, runIds.get(0)));
    }

    /** How many of the iterations 0 .. published − 1 the app reads (all of them, but in a replay of a range). */
    private long expectedIterations(int published) {
        long highest = Math.min((long) published - 1, lastIteration);
        return highest < firstIteration ? 0 : highest - firstIteration + 1;
    }

    private RunBlock block(String key, String experimentId) {
        RunBlock block = blocks.get(key);
        if (block == null) {
            return RunBlock.empty(experimentId);
        }
        block.adoptKey(key);
        return block;
    }

    private void send(String key, PartialValues batch, long timestamp) {
        context.forward(new Record<>(key, batch, timestamp));
    }

    private void showRolling(String runId, RunState state) {
        Tags run = Tags.of(MeterNames.TAG_EXPERIMENT, state.experimentId(), MeterNames.TAG_RUN, runId);
        for (Map.Entry<String, RollingWindow> entry : state.rollingWindows().entrySet()) {
            Quantiles quantiles = entry.getValue().quantiles();
            for (double level : Quantiles.LEVELS) {
                watchedGauges.set(runId, MeterNames.RUN_ROLLING_QUANTILE,
                        run.and(MeterNames.TAG_METRIC, entry.getKey(), MeterNames.TAG_QUANTILE, Quantiles.label(level)),
                        "A watched run's quantile of the metric over its last W iterations", quantiles.at(level));
            }
        }
        watchedHere.add(runId);
    }

    @Override
    public void close() {
        watchedHere.forEach(watchedGauges::remove);
        watchedHere.clear();
        batches.clear();
    }
}
