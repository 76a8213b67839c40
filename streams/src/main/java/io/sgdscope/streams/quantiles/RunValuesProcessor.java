package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * First step, still keyed by run: counts the record, drops an iteration the run has already sent,
 * and splits the record into one value per tracked metric, keyed by the distribution it joins.
 *
 * <p>Duplicates: a run's records arrive in order (one partition per run), so a record whose iteration
 * is not above the run's highest so far was sent before (a producer retry without idempotence, a
 * restarted trainer). Counting it again would count that run twice at that iteration.
 */
final class RunValuesProcessor implements Processor<String, IterationMetrics, String, MetricValue> {

    private final List<TrackedMetric> metrics;
    private final MeterRegistry registry;
    private final Map<String, Counter> recordCounters = new HashMap<>();
    private final Map<String, Counter> duplicateCounters = new HashMap<>();
    private ProcessorContext<String, MetricValue> context;
    private KeyValueStore<String, Integer> runProgress;

    RunValuesProcessor(List<TrackedMetric> metrics, MeterRegistry registry) {
        this.metrics = metrics;
        this.registry = registry;
    }

    @Override
    public void init(ProcessorContext<String, MetricValue> context) {
        this.context = context;
        this.runProgress = context.getStateStore(QuantilesTopology.RUN_PROGRESS_STORE);
    }

    @Override
    public void process(Record<String, IterationMetrics> record) {
        IterationMetrics metricsRecord = record.value();
        if (metricsRecord == null) {
            return; // a tombstone carries no values
        }
        String experimentId = metricsRecord.getExperimentId();
        counter(recordCounters, MeterNames.ITERATION_RECORDS, experimentId,
                "IterationMetrics records read").increment();

        int iteration = metricsRecord.getIteration();
        Integer highest = runProgress.get(metricsRecord.getRunId());
        if (highest != null && iteration <= highest) {
            counter(duplicateCounters, MeterNames.DUPLICATE_ITERATION_RECORDS, experimentId,
                    "Records of an iteration the run had already sent, skipped").increment();
            return;
        }
        runProgress.put(metricsRecord.getRunId(), iteration);

        for (TrackedMetric metric : metrics) {
            Double value = metric.valueOf(metricsRecord);
            if (value != null) {
                context.forward(record
                        .withKey(Topics.quantileKey(experimentId, metric.name(), iteration))
                        .withValue(new MetricValue(experimentId, metric.name(), iteration, value)));
            }
        }
    }

    private Counter counter(Map<String, Counter> counters, String name, String experimentId, String description) {
        return counters.computeIfAbsent(experimentId, id -> Counter.builder(name)
                .tag(MeterNames.TAG_EXPERIMENT, id)
                .description(description)
                .register(registry));
    }
}
