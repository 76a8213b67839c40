package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.internals.WriteBackStore;
import java.time.Clock;
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
    private final QuantilesMeters meters;
    private final Clock clock;
    /** Room for the finite values of one metric of a batch. */
    private double[] scratch = new double[512];
    private ProcessorContext<String, CrossRunBand> context;
    private WriteBackStore<CrossRunDistribution> distributions;

    DistributionProcessor(int sketchK, MeterRegistry registry, Clock clock) {
        this.sketchK = sketchK;
        this.meters = new QuantilesMeters(registry);
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
            int count = partial.valueCount(metric);
            if (scratch.length < count) {
                scratch = new double[Math.max(count, 2 * scratch.length)];
            }
            int nonFinite = distribution.addAll(partial.valuesView(metric), count, scratch);
            distributions.put(key, distribution);
            if (nonFinite > 0) {
                meters.nonFinite(experimentId, metric).increment(nonFinite);
            }
            context.forward(record.withKey(Topics.quantileKey(experimentId, metric, iteration))
                    .withValue(distribution.band(experimentId, metric, iteration, clock.millis())));
        }
    }

}
