package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.streams.internals.StateCache;
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
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First step, keyed by run: counts each (run, iteration) once whatever order records arrive in, pairs
 * iterations into steps for Δ_t(f) (Eq. 22), counts records of finished runs as late, keeps the rolling
 * windows of watched runs, and gathers the values of each (experiment, iteration) into batches
 * ({@link PartialValues}) that go on after {@code batchRecords} records or {@code emitInterval} (wall
 * clock). The batches being built live in a changelogged store, so that under exactly-once what was
 * counted here and what was sent on commit together. A batch is stored as chunks of
 * {@value #CHUNK_RECORDS} records, so a record rewrites one small chunk, not the whole batch.
 *
 * <p>Outputs: {@link PartialValues} keyed by experiment and iteration, and {@link RunLifecycle} keyed
 * by experiment (a run's first counted iteration, its RunFinished).
 */
final class RunValuesProcessor implements Processor<String, RunInput, String, Object> {

    private static final Logger log = LoggerFactory.getLogger(RunValuesProcessor.class);
    /** Runs whose state stays decoded in memory (a few hundred bytes each). */
    private static final int CACHED_RUNS = 20_000;
    /** Records per stored chunk of a batch. */
    static final int CHUNK_RECORDS = 16;

    /** A batch being gathered: its chunks (the last one filling), as the store has them. */
    private static final class Batch {
        final String experimentId;
        final int iteration;
        final List<PartialValues> chunks = new ArrayList<>();
        int records;

        Batch(String experimentId, int iteration) {
            this.experimentId = experimentId;
            this.iteration = iteration;
        }

        /** The chunk the next record goes to. */
        PartialValues filling() {
            if (chunks.isEmpty() || chunks.get(chunks.size() - 1).records() >= CHUNK_RECORDS) {
                chunks.add(new PartialValues(experimentId, iteration));
            }
            return chunks.get(chunks.size() - 1);
        }

        /** Counts a record that contributes to the filling chunk, and returns that chunk. */
        PartialValues record() {
            PartialValues chunk = filling();
            chunk.countRecord();
            records++;
            return chunk;
        }

        PartialValues merged() {
            PartialValues all = new PartialValues(experimentId, iteration);
            chunks.forEach(all::addAll);
            return all;
        }
    }

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
    /** Batches of this task not yet sent, by experiment and iteration (the store has the same, as bytes). */
    private final Map<String, Batch> open = new HashMap<>();
    private final StateCache<RunState> runStates = new StateCache<>(CACHED_RUNS);
    /** Watched runs whose gauges this task registered. */
    private final Set<String> watchedHere = new HashSet<>();
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, PartialValues> partials;

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
        this.runStates.attach(context.getStateStore(QuantilesTopology.RUN_STATE_STORE));
        this.partials = context.getStateStore(QuantilesTopology.PARTIAL_VALUES_STORE);
        // The store is restored (and a processor may be initialised again after a dirty close): rebuild
        // the batches from it.
        this.open.clear();
        try (KeyValueIterator<String, PartialValues> all = partials.all()) {
            while (all.hasNext()) {
                KeyValue<String, PartialValues> entry = all.next();
                String batchKey = entry.key.substring(0, entry.key.lastIndexOf('\u0000'));
                Batch batch = open.computeIfAbsent(batchKey,
                        key -> new Batch(entry.value.experimentId(), entry.value.iteration()));
                batch.chunks.add(entry.value); // all() is in key order: a batch's chunks in number order
                batch.records += entry.value.records();
            }
        }
        context.schedule(settings.emitInterval(), PunctuationType.WALL_CLOCK_TIME, this::sendAll);
    }

    @Override
    public void process(Record<String, RunInput> record) {
        RunInput input = record.value();
        if (input instanceof RunInput.Iteration iteration) {
            onIteration(iteration.metrics(), record.timestamp());
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
        Map<String, Batch> touched = new LinkedHashMap<>(2);
        PartialValues partial = batch(experimentId, t, touched).record();
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
        if (first) {
            context.forward(new Record<>(experimentId, RunLifecycle.active(experimentId, runId, t), timestamp));
        }
        keep(touched, timestamp);
    }

    private void onStep(RunState state, StepPairing.Step<Boolean> step, Map<String, Batch> touched) {
        double lossDelta = step.lossDelta(); // Eq. 22
        if (lossDeltaTracked) {
            batch(state.experimentId(), step.iteration(), touched).record().add(TrackedMetric.LOSS_DELTA, lossDelta);
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
        if (spectrumMetrics.isEmpty()) {
            return;
        }
        Map<String, Batch> touched = new LinkedHashMap<>(1);
        PartialValues partial = batch(experimentId, snapshot.iteration(), touched).record();
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
    }

    private void onFinished(RunInput.Finished finished, long timestamp) {
        String runId = finished.runId();
        RunState state = state(runId, finished.experimentId());
        if (state.finished()) {
            return; // finishes once
        }
        int last = state.iterations().max();
        Double lossAfter = finished.lossAfterLastIteration();
        Map<String, Batch> touched = new LinkedHashMap<>(1);
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
        context.forward(new Record<>(finished.experimentId(),
                RunLifecycle.finished(finished.experimentId(), runId, finished.status(), last), timestamp));
        keep(touched, timestamp);
    }

    private RunState state(String runId, String experimentId) {
        RunState state = runStates.get(runId);
        return state != null ? state : RunState.fresh(experimentId);
    }

    private Batch batch(String experimentId, int iteration, Map<String, Batch> touched) {
        String key = PartialValues.key(experimentId, iteration);
        Batch batch = open.computeIfAbsent(key, k -> new Batch(experimentId, iteration));
        touched.put(key, batch);
        return batch;
    }

    /** Stores the chunks changed by one record; full batches go on at once. */
    private void keep(Map<String, Batch> touched, long timestamp) {
        for (Map.Entry<String, Batch> entry : touched.entrySet()) {
            Batch batch = entry.getValue();
            if (batch.records >= settings.batchRecords()) {
                send(entry.getKey(), batch, timestamp);
            } else {
                int last = batch.chunks.size() - 1;
                partials.put(chunkKey(entry.getKey(), last), batch.chunks.get(last));
            }
        }
    }

    private void send(String key, Batch batch, long timestamp) {
        context.forward(new Record<>(key, batch.merged(), timestamp));
        for (int chunk = 0; chunk < batch.chunks.size(); chunk++) {
            partials.delete(chunkKey(key, chunk));
        }
        open.remove(key);
    }

    /** Sends every batch (the punctuation every emitInterval). */
    private void sendAll(long now) {
        for (Map.Entry<String, Batch> entry : new ArrayList<>(open.entrySet())) {
            send(entry.getKey(), entry.getValue(), now);
        }
    }

    /** Chunks sort in number order within a batch: the number is zero-padded to 5 digits (≤ 100,000 / 16 chunks). */
    private static String chunkKey(String batchKey, int chunk) {
        String number = Integer.toString(chunk);
        return batchKey + '\u0000' + "00000".substring(number.length()) + number;
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
        runStates.clear();
    }

    private Counter counter(String experimentId, String name, String description) {
        return counters.computeIfAbsent(experimentId, id -> new HashMap<>())
                .computeIfAbsent(name, key -> Counter.builder(name)
                        .tag(MeterNames.TAG_EXPERIMENT, experimentId)
                        .description(description)
                        .register(registry));
    }
}
