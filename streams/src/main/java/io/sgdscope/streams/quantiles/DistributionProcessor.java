package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.streams.metrics.MeterNames;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Second step, keyed by experiment/metric/iteration: adds a run's value to the distribution of its
 * iteration (stored as sketch bytes) and forwards the updated band.
 */
final class DistributionProcessor implements Processor<String, MetricValue, String, CrossRunBand> {

    private final int sketchK;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Counter> nonFiniteCounters = new HashMap<>();
    private ProcessorContext<String, CrossRunBand> context;
    private KeyValueStore<String, byte[]> distributions;

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
    public void process(Record<String, MetricValue> record) {
        MetricValue value = record.value();
        if (value == null) {
            return;
        }
        byte[] stored = distributions.get(record.key());
        CrossRunDistribution distribution = stored == null
                ? CrossRunDistribution.empty(sketchK)
                : CrossRunDistribution.fromBytes(stored);
        distribution.add(value.value());
        distributions.put(record.key(), distribution.toBytes());

        if (!Double.isFinite(value.value())) {
            nonFiniteCounter(value).increment();
        }
        context.forward(record.withValue(
                distribution.band(value.experimentId(), value.metric(), value.iteration(), clock.millis())));
    }

    private Counter nonFiniteCounter(MetricValue value) {
        return nonFiniteCounters.computeIfAbsent(value.experimentId() + "/" + value.metric(),
                key -> Counter.builder(MeterNames.NON_FINITE_VALUES)
                        .tag(MeterNames.TAG_EXPERIMENT, value.experimentId())
                        .tag(MeterNames.TAG_METRIC, value.metric())
                        .description("NaN or infinite values, counted but kept out of the sketch")
                        .register(registry));
    }
}
