package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class CrossRunDistributionTest {

    @Test
    void storedBytesReadBackToTheSameDistribution() {
        CrossRunDistribution distribution = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        Random random = new Random(11);
        for (int i = 0; i < 5_000; i++) {
            distribution.add(random.nextGaussian());
        }
        distribution.add(Double.NaN);

        CrossRunDistribution read = CrossRunDistribution.fromBytes(distribution.toBytes());
        assertEquals(distribution.band("e", "loss", 3, 0L), read.band("e", "loss", 3, 0L));
        assertEquals(5_000, read.count());
        assertEquals(1, read.nonFinite());
    }

    @Test
    void meanOfManySmallValuesAfterALargeOneKeepsItsDigits() {
        // Plain summation loses the small values next to 1e16; the compensated sum keeps them.
        CrossRunDistribution distribution = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        distribution.add(1e16);
        for (int i = 0; i < 1_000; i++) {
            distribution.add(1.0);
        }
        distribution.add(-1e16);
        assertEquals(1_000.0 / 1_002, distribution.mean(), 1e-15);
    }

    @Test
    void bandsCrossTheInternalTopicsUnchanged() {
        CrossRunBand band = new CrossRunBand("exp/with/slashes", "loss", 12, 9, 1, 0.5, 0.1, 0.9,
                new Quantiles(0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9), 0.0089, 1_700_000_000_000L);
        Serde<CrossRunBand> serde = InternalSerdes.bands();
        assertEquals(band, serde.deserializer().deserialize("t", serde.serializer().serialize("t", band)));

        MetricValue value = new MetricValue("exp", "loss", 12, Double.NaN);
        Serde<MetricValue> values = InternalSerdes.metricValues();
        assertEquals(value, values.deserializer().deserialize("t", values.serializer().serialize("t", value)));
    }
}
