package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.internals.WriteBackStore;
import io.sgdscope.streams.metrics.MeterNames;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Second step, keyed by experiment and iteration: adds a batch of runs' values to the distribution of
 * each metric at that iteration (a sketch per metric, kept decoded in a {@link WriteBackStore}) and
 * forwards the updated bands, keyed by {@link Topics#quantileKey}.
 */
final class DistributionProcessor implements Processor<String, PartialValues, String, CrossRunBand> {

    private final int sketchK;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Counter> nonFiniteCounters = new HashMap<>();
    private ProcessorContext<String, CrossRunBand> context;
    private WriteBackStore<CrossRunDistribution> distributions;

    DistributionProcessor(int sketchK, MeterRegistry registry, Clock clock) {
        this.sketchK = sketchK;
        this.registry = registry;
        this.clock = clock;
    }

    @Override
    public void init(ProcessorContext<String, CrossRunBand> context) {
        this.context = context;
        this.distributions = context.getStateStore(QuantilesTopology.DISTRIBUTIONS_STORE);
    }

    @Override
    public void process(Record<String, PartialValues> record) {
        PartialValues partial = record.value();
        if (partial == null) {
            return;
        }
        String experimentId = partial.experimentId();
        int iteration = partial.iteration();
        for (String metric : partial.metrics()) {
            String key = FrontierProcessor.bandKey(experimentId, metric, iteration);
            CrossRunDistribution distribution = distributions.get(key);
            if (distribution == null) {
                distribution = CrossRunDistribution.empty(sketchK);
            }
            int nonFinite = 0;
            for (double value : partial.valuesOf(metric)) {
                distribution.add(value);
                if (!Double.isFinite(value)) {
                    nonFinite++;
                }
            }
            distributions.put(key, distribution);
            if (nonFinite > 0) {
                nonFiniteCounter(experimentId, metric).increment(nonFinite);
            }
            context.forward(record.withKey(Topics.quantileKey(experimentId, metric, iteration))
                    .withValue(distribution.band(experimentId, metric, iteration, clock.millis())));
        }
    }

    private Counter nonFiniteCounter(String experimentId, String metric) {
        return nonFiniteCounters.computeIfAbsent(experimentId + '\u0000' + metric,
                key -> Counter.builder(MeterNames.NON_FINITE_VALUES)
                        .tag(MeterNames.TAG_EXPERIMENT, experimentId)
                        .tag(MeterNames.TAG_METRIC, metric)
                        .description("NaN or infinite values, counted but kept out of the sketch")
                        .register(registry));
    }
}
