package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.runs.RunInput;
import io.sgdscope.streams.runs.StepPairing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First step, keyed by run: counts each (run, iteration) once whatever order records arrive in, pairs
 * iterations into steps for Δ_t(f) (Eq. 22), counts records of finished runs as late, keeps the rolling
 * windows of watched runs, and gathers the values of each (experiment, iteration) into batches
 * ({@link PartialValues}) that go on after {@code batchRecords} records or {@code emitInterval} (wall
 * clock). The run states and the batches being built live in changelogged {@link WriteBackStore}s, so
 * that under exactly-once what was counted here and what was sent commit together; each changed run
 * state and batch is written once per commit, not once per record.
 *
 * <p>Outputs: {@link PartialValues} keyed by experiment and iteration, and {@link RunLifecycle} keyed
 * by experiment (the RunStarted of a run of a sharded experiment, a run's first counted iteration, its
 * RunFinished; with a stall timeout, a run that has sent nothing for that long and its first record after that).
 */
final class RunValuesProcessor implements Processor<String, RunInput, String, Object> {

    private static final Logger log = LoggerFactory.getLogger(RunValuesProcessor.class);
    /** Runs whose state stays decoded in memory between commits (a few hundred bytes each). */
    static final int CACHED_RUNS = 20_000;

    private final QuantilesSettings settings;
    private final List<TrackedMetric> recordMetrics = new ArrayList<>();
    private final List<TrackedMetric> spectrumMetrics = new ArrayList<>();
    private final boolean lossDeltaTracked;
    private final List<TrackedMetric> rollingMetrics;
    private final MeterRegistry registry;
    /** End-to-end latency: produce (record timestamp) to processing here, wall clock. */
    private final Timer latency;
    private final MeterGroups watchedGauges;
    private final Map<String, Map<String, Counter>> counters = new HashMap<>();
    /** Batches of this task not yet sent, by experiment and iteration (also in the store, written on commit). */
    private final Map<String, PartialValues> open = new HashMap<>();
    private WriteBackStore<RunState> runStates;
    /** Watched runs whose gauges this task registered. */
    private final Set<String> watchedHere = new HashSet<>();
    private ProcessorContext<String, Object> context;
    private WriteBackStore<PartialValues> partials;
    /**
     * The active runs of this task (counted iterations, no RunFinished) and when each last sent a record,
     * wall clock of the app; in memory only (after a restart each starts again from the restart).
     */
    private final Map<String, Activity> activity = new HashMap<>();

    /** When an active run last sent a record, and whether it has been reported stalled since. */
    private static final class Activity {
        final String experimentId;
        long lastSeenMillis;
        boolean stalled;
        /** Rebuilt after a restart: the frontier may know it as stalled, so its next record reports it active. */
        boolean announce;

        Activity(String experimentId, long lastSeenMillis) {
            this.experimentId = experimentId;
            this.lastSeenMillis = lastSeenMillis;
        }
    }

    RunValuesProcessor(QuantilesSettings settings, MeterRegistry registry, MeterGroups watchedGauges) {
        this.settings = settings;
        for (String name : settings.metrics()) {
            TrackedMetric metric = TrackedMetric.named(name);
            if (metric.fromIterationRecord()) {
                recordMetrics.add(metric);
            } else if (metric.source() == TrackedMetric.Source.SPECTRUM) {
                spectrumMetrics.add(metric);
            }
        }
        this.lossDeltaTracked = settings.metrics().contains(TrackedMetric.LOSS_DELTA);
        this.rollingMetrics = settings.watchedRuns() == 0 ? List.of()
                : settings.rollingMetrics().stream().map(TrackedMetric::named).toList();
        this.registry = registry;
        this.latency = Timer.builder(MeterNames.RECORD_LATENCY)
                .description("Time from a trainer producing an IterationMetrics (its record timestamp) to the quantiles app reading it")
                .publishPercentileHistogram()
                .minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofMinutes(5))
                .register(registry);
        this.watchedGauges = watchedGauges;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.runStates = context.getStateStore(QuantilesTopology.RUN_STATE_STORE);
        this.partials = context.getStateStore(QuantilesTopology.PARTIAL_VALUES_STORE);
        // The store is restored (and a processor may be initialised again after a dirty close): the
        // batches not yet sent are the ones it holds.
        this.open.clear();
        partials.forEachCommitted(open::put);
        context.schedule(settings.emitInterval(), PunctuationType.WALL_CLOCK_TIME, this::sendAll);
        activity.clear();
        if (!settings.runStallTimeout().isZero()) {
            long now = context.currentSystemTimeMs();
            runStates.forEachCommitted((runId, state) -> {
                if (!state.finished() && !state.iterations().isEmpty()) {
                    Activity restored = new Activity(state.experimentId(), now);
                    restored.announce = true;
                    activity.put(runId, restored);
                }
            });
            java.time.Duration check = settings.runStallTimeout().dividedBy(4);
            check = check.compareTo(java.time.Duration.ofMinutes(1)) > 0 ? java.time.Duration.ofMinutes(1)
                    : check.compareTo(java.time.Duration.ofMillis(100)) < 0 ? java.time.Duration.ofMillis(100) : check;
            context.schedule(check, PunctuationType.WALL_CLOCK_TIME, this::reportStalledRuns);
        }
    }

    /**
     * A run is active while it sends; when it has sent nothing for the stall timeout it is reported
     * stalled, and active again with its next record.
     */
    private void seen(String runId, String experimentId, int iteration, boolean first, long timestamp) {
        boolean announce = first;
        if (!settings.runStallTimeout().isZero()) {
            long now = context.currentSystemTimeMs();
            Activity known = activity.get(runId);
            if (known == null) {
                activity.put(runId, new Activity(experimentId, now));
            } else {
                known.lastSeenMillis = now;
                announce |= known.stalled || known.announce;
                known.stalled = false;
                known.announce = false;
            }
        }
        if (announce) {
            context.forward(new Record<>(experimentId, RunLifecycle.active(experimentId, runId, iteration), timestamp));
        }
    }

    private void reportStalledRuns(long now) {
        long timeout = settings.runStallTimeout().toMillis();
        Map<String, List<String>> stalledNow = new java.util.TreeMap<>();
        for (Map.Entry<String, Activity> entry : activity.entrySet()) {
            Activity run = entry.getValue();
            if (!run.stalled && now - run.lastSeenMillis >= timeout) {
                RunState state = runStates.get(entry.getKey());
                int last = state == null ? -1 : state.iterations().max();
                run.stalled = true;
                run.announce = false;
                stalledNow.computeIfAbsent(run.experimentId, id -> new ArrayList<>()).add(entry.getKey());
                context.forward(new Record<>(run.experimentId, RunLifecycle.stalled(run.experimentId, entry.getKey(), last), now));
            }
        }
        // One line per experiment, not per run: a crashed ensemble trainer stalls thousands of runs at once.
        stalledNow.forEach((experimentId, runIds) -> log.info(
                "{} run(s) of experiment {} sent nothing for {} s and no RunFinished (e.g. {}): counted as stalled until they send again",
                runIds.size(), experimentId, timeout / 1000, runIds.get(0)));
    }

    @Override
    public void process(Record<String, RunInput> record) {
        RunInput input = record.value();
        if (input instanceof RunInput.Frames frames) {
            Frame frame = frames.frame();
            for (int run = 0; run < frame.size(); run++) {
                onIteration(frame.row(run), record.timestamp());
            }
        } else if (input instanceof RunInput.Spectrum spectrum) {
            onSpectrum(spectrum, record.timestamp());
        } else if (input instanceof RunInput.Started started) {
            onStarted(started);
        } else if (input instanceof RunInput.Finished finished) {
            onFinished(finished, record.timestamp());
        }
    }

    private void onIteration(IterationMetrics metrics, long timestamp) {
        String experimentId = metrics.getExperimentId();
        String runId = metrics.getRunId();
        int t = metrics.getIteration();
        counter(experimentId, MeterNames.ITERATION_RECORDS, "IterationMetrics records read by the quantiles app").increment();
        latency.record(Math.max(0, System.currentTimeMillis() - timestamp), java.util.concurrent.TimeUnit.MILLISECONDS);
        if (t < 0) {
            log.warn("skipped the record of run {} at iteration {}: iterations start at 0", runId, t);
            return;
        }
        RunState state = state(runId, experimentId);
        if (state.finished()) {
            counter(experimentId, MeterNames.LATE_RECORDS, "Records of a run whose RunFinished had arrived, skipped").increment();
            return;
        }
        boolean first = state.iterations().isEmpty();
        if (!state.iterations().add(t)) {
            counter(experimentId, MeterNames.DUPLICATE_ITERATION_RECORDS,
                    "Records of an iteration the run had already sent, skipped").increment();
            return;
        }
        Map<String, PartialValues> touched = new LinkedHashMap<>(2);
        PartialValues partial = batch(experimentId, t, touched);
        for (TrackedMetric metric : recordMetrics) {
            Double value = metric.valueOf(metrics);
            if (value != null) {
                partial.add(metric.name(), value);
            }
        }
        boolean watched = state.watched();
        if (lossDeltaTracked || watched) {
            state.losses().add(t, metrics.getLoss(), Boolean.TRUE, state.iterations(),
                    step -> onStep(state, step, touched));
        }
        if (watched) {
            for (TrackedMetric metric : rollingMetrics) {
                Double value = metric.valueOf(metrics);
                if (value != null) {
                    state.rolling(metric.name(), settings.rollingWindow()).add(t, value);
                }
            }
            showRolling(runId, state);
        }
        runStates.put(runId, state);
        seen(runId, experimentId, t, first, timestamp);
        keep(touched, timestamp);
    }

    private void onStep(RunState state, StepPairing.Step<Boolean> step, Map<String, PartialValues> touched) {
        double lossDelta = step.lossDelta(); // Eq. 22
        if (lossDeltaTracked) {
            batch(state.experimentId(), step.iteration(), touched).add(TrackedMetric.LOSS_DELTA, lossDelta);
        }
        if (state.watched() && settings.rollingMetrics().contains(TrackedMetric.LOSS_DELTA)) {
            state.rolling(TrackedMetric.LOSS_DELTA, settings.rollingWindow()).add(step.iteration(), lossDelta);
        }
    }

    private void onSpectrum(RunInput.Spectrum snapshot, long timestamp) {
        String experimentId = snapshot.experimentId();
        counter(experimentId, MeterNames.SPECTRUM_RECORDS, "SpectrumSnapshot records read by the quantiles app").increment();
        if (snapshot.iteration() < 0) {
            log.warn("skipped the snapshot of run {} at iteration {}: iterations start at 0", snapshot.runId(), snapshot.iteration());
            return;
        }
        RunState state = state(snapshot.runId(), experimentId);
        if (state.finished()) {
            counter(experimentId, MeterNames.LATE_RECORDS, "Records of a run whose RunFinished had arrived, skipped").increment();
            return;
        }
        if (!state.snapshots().add(snapshot.iteration())) {
            counter(experimentId, MeterNames.DUPLICATE_SPECTRUM_RECORDS,
                    "Snapshots of an iteration the run had already sent, skipped").increment();
            return;
        }
        runStates.put(snapshot.runId(), state);
        Activity known = activity.get(snapshot.runId());
        if (known != null && !known.stalled && !known.announce) {
            known.lastSeenMillis = context.currentSystemTimeMs();   // a snapshot is a sign of life too
        }
        if (spectrumMetrics.isEmpty()) {
            return;
        }
        Map<String, PartialValues> touched = new LinkedHashMap<>(1);
        PartialValues partial = batch(experimentId, snapshot.iteration(), touched);
        for (TrackedMetric metric : spectrumMetrics) {
            Double value = metric.valueOf(snapshot);
            if (value != null) {
                partial.add(metric.name(), value);
            }
        }
        keep(touched, timestamp);
    }

    private void onStarted(RunInput.Started started) {
        RunState state = state(started.runId(), started.experimentId());
        if (state.started()) {
            return;
        }
        state.start(started.runIndex(), started.runIndex() >= 0 && started.runIndex() < settings.watchedRuns() && !state.finished());
        runStates.put(started.runId(), state);
        if (started.sharded()) {
            // The frontier of a sharded experiment waits until a run of each of its shards has started.
            context.forward(new Record<>(started.experimentId(), RunLifecycle.started(started.experimentId(), started.runId(),
                    started.shardIndex(), started.shardCount()), context.currentStreamTimeMs()));
        }
    }

    private void onFinished(RunInput.Finished finished, long timestamp) {
        String runId = finished.runId();
        RunState state = state(runId, finished.experimentId());
        if (state.finished()) {
            return; // finishes once
        }
        int last = state.iterations().max();
        Double lossAfter = finished.lossAfterLastIteration();
        Map<String, PartialValues> touched = new LinkedHashMap<>(1);
        int end = finished.iterations();
        if (lossAfter != null && (lossDeltaTracked || state.watched()) && state.iterations().add(end)) {
            // f(θ_T) closes the step T − 1 → T (see RunInput.Finished#lossAfterLastIteration)
            state.losses().add(end, lossAfter, null, state.iterations(), step -> onStep(state, step, touched));
        }
        if (state.watched()) {
            showRolling(runId, state);
            watchedGauges.remove(runId);
            watchedHere.remove(runId);
        }
        state.finish();
        runStates.put(runId, state);
        activity.remove(runId);
        context.forward(new Record<>(finished.experimentId(),
                RunLifecycle.finished(finished.experimentId(), runId, finished.status(), last), timestamp));
        keep(touched, timestamp);
    }

    private RunState state(String runId, String experimentId) {
        RunState state = runStates.get(runId);
        return state != null ? state : RunState.fresh(experimentId);
    }

    /** The batch of the experiment and iteration, counting one more record that contributes to it. */
    private PartialValues batch(String experimentId, int iteration, Map<String, PartialValues> touched) {
        String key = PartialValues.key(experimentId, iteration);
        PartialValues batch = open.computeIfAbsent(key, k -> new PartialValues(experimentId, iteration));
        batch.countRecord();
        touched.put(key, batch);
        return batch;
    }

    /** Notes the batches changed by one record; full batches go on at once. */
    private void keep(Map<String, PartialValues> touched, long timestamp) {
        for (Map.Entry<String, PartialValues> entry : touched.entrySet()) {
            if (entry.getValue().records() >= settings.batchRecords()) {
                send(entry.getKey(), entry.getValue(), timestamp);
            } else {
                partials.put(entry.getKey(), entry.getValue());
            }
        }
    }

    private void send(String key, PartialValues batch, long timestamp) {
        context.forward(new Record<>(key, batch, timestamp));
        partials.delete(key);
        open.remove(key);
    }

    /** Sends every batch (the punctuation every emitInterval). */
    private void sendAll(long now) {
        for (Map.Entry<String, PartialValues> entry : new ArrayList<>(open.entrySet())) {
            send(entry.getKey(), entry.getValue(), now);
        }
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
        open.clear();
    }

    private Counter counter(String experimentId, String name, String description) {
        return counters.computeIfAbsent(experimentId, id -> new HashMap<>())
                .computeIfAbsent(name, key -> Counter.builder(name)
                        .tag(MeterNames.TAG_EXPERIMENT, experimentId)
                        .description(description)
                        .register(registry));
    }
}
