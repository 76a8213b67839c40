package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
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
    void aBulkAddGivesBitForBitTheSumsOfAddingOneByOneAndCountsTheNonFiniteValues() {
        Random random = new Random(5);
        double[] values = new double[1_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 97 == 0 ? Double.NaN : i % 89 == 0 ? Double.NEGATIVE_INFINITY : Math.exp(3 * random.nextGaussian()) - 1;
        }
        CrossRunDistribution oneByOne = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        oneByOne.add(1e9);
        Arrays.stream(values).forEach(oneByOne::add);
        CrossRunDistribution bulk = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        bulk.add(1e9);
        int nonFinite = bulk.addAll(values, 700, new double[700]) + bulk.addAll(Arrays.copyOfRange(values, 700, 1_000), 300, new double[300]);

        long expectedNonFinite = Arrays.stream(values).filter(value -> !Double.isFinite(value)).count();
        assertEquals(expectedNonFinite, nonFinite);
        assertEquals(expectedNonFinite, bulk.nonFinite());
        assertEquals(oneByOne.count(), bulk.count());
        assertEquals(Double.doubleToLongBits(oneByOne.mean()), Double.doubleToLongBits(bulk.mean()));
        assertEquals(Double.doubleToLongBits(oneByOne.variance()), Double.doubleToLongBits(bulk.variance()));
        assertEquals(oneByOne.min(), bulk.min());
        assertEquals(oneByOne.max(), bulk.max());
        double[] sorted = Arrays.stream(values).filter(Double::isFinite).toArray();
        assertEquals(Arrays.stream(sorted).min().orElseThrow(), bulk.min(), "the smallest finite value (the largest is 1e9)");
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
    void varianceOfValuesFarFromZeroDoesNotCancel() {
        // Σx² − n·mean² in float64 loses every digit here (x² ~ 1e18, spread ~ 1); double-double sums keep them.
        CrossRunDistribution distribution = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        double[] values = {1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4};
        Arrays.stream(values).forEach(distribution::add);
        assertEquals(5.0 / 3, distribution.variance(), 1e-12, "sample variance of 1, 2, 3, 4 is 5/3");
        CrossRunDistribution one = CrossRunDistribution.empty(8);
        one.add(2.0);
        assertTrue(Double.isNaN(one.variance()), "one value has no sample variance");
    }

    @Test
    void aDistributionStoredBeforeTheVarianceExistedIsStillReadWithoutIt() {
        CrossRunDistribution distribution = CrossRunDistribution.empty(QuantilesTopology.DEFAULT_SKETCH_K);
        distribution.add(1.0);
        distribution.add(3.0);
        byte[] current = distribution.toBytes();
        // Format 1: the same without Welford's mean and M₂ (16 bytes after the compensation).
        int header1 = 1 + Long.BYTES + 2 * Double.BYTES;
        byte[] old = new byte[current.length - 16];
        System.arraycopy(current, 0, old, 0, header1);
        System.arraycopy(current, header1 + 16, old, header1, current.length - header1 - 16);
        ByteBuffer.wrap(old).order(ByteOrder.LITTLE_ENDIAN).put(0, (byte) 1);

        CrossRunDistribution read = CrossRunDistribution.fromBytes(old);
        assertEquals(2, read.count());
        assertEquals(2.0, read.mean());
        assertTrue(Double.isNaN(read.variance()));
    }

    @Test
    void bandsAndBatchesCrossTheInternalTopicsUnchanged() {
        CrossRunBand band = new CrossRunBand("exp/with/slashes", "loss", 12, 9, 1, 0.5, 0.04, 0.1, 0.9,
                new Quantiles(0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9), 0.0089, 1_700_000_000_000L);
        Serde<CrossRunBand> serde = InternalSerdes.bands();
        assertEquals(band, serde.deserializer().deserialize("t", serde.serializer().serialize("t", band)));
        Serde<FrontierEvent> events = InternalSerdes.frontierEvents();
        FrontierEvent event = FrontierEvent.of(band);
        assertEquals(event, events.deserializer().deserialize("t", events.serializer().serialize("t", event)));

        PartialValues partial = new PartialValues("exp", 12);
        partial.countRecord();
        partial.add("loss", 2.5);
        partial.add("loss", Double.NaN);
        partial.add("lossDelta", -0.25);
        PartialValues read = PartialValues.fromBytes("t", partial.toBytes());
        assertEquals("exp", read.experimentId());
        assertEquals(12, read.iteration());
        assertEquals(1, read.records());
        assertEquals(2, read.valuesOf("loss").length);
        assertEquals(2.5, read.valuesOf("loss")[0]);
        assertTrue(Double.isNaN(read.valuesOf("loss")[1]));
        assertEquals(-0.25, read.valuesOf("lossDelta")[0]);
    }

    @Test
    void meanAndVarianceDoNotDependOnTheOrderTheValuesArriveIn() {
        java.util.Random random = new java.util.Random(11);
        double[] values = new double[1_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = 2.3 + 1e-3 * random.nextGaussian() + (i % 7 == 0 ? 1e6 * random.nextDouble() : 0);
        }
        CrossRunDistribution forward = CrossRunDistribution.empty(300);
        CrossRunDistribution backward = CrossRunDistribution.empty(300);
        CrossRunDistribution shuffled = CrossRunDistribution.empty(300);
        java.util.List<Double> order = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            forward.add(values[i]);
            backward.add(values[values.length - 1 - i]);
            order.add(values[i]);
        }
        java.util.Collections.shuffle(order, random);
        order.forEach(shuffled::add);
        // A replay meets the runs' values in another order than the live app did: same bits.
        org.junit.jupiter.api.Assertions.assertEquals(Double.doubleToLongBits(forward.mean()), Double.doubleToLongBits(backward.mean()));
        org.junit.jupiter.api.Assertions.assertEquals(Double.doubleToLongBits(forward.mean()), Double.doubleToLongBits(shuffled.mean()));
        org.junit.jupiter.api.Assertions.assertEquals(Double.doubleToLongBits(forward.variance()), Double.doubleToLongBits(backward.variance()));
        org.junit.jupiter.api.Assertions.assertEquals(Double.doubleToLongBits(forward.variance()), Double.doubleToLongBits(shuffled.variance()));
        // And exact: against BigDecimal arithmetic.
        java.math.BigDecimal sum = java.math.BigDecimal.ZERO;
        java.math.BigDecimal squares = java.math.BigDecimal.ZERO;
        for (double v : values) {
            sum = sum.add(new java.math.BigDecimal(v));
            squares = squares.add(new java.math.BigDecimal(v).multiply(new java.math.BigDecimal(v)));
        }
        java.math.MathContext context = new java.math.MathContext(40);
        java.math.BigDecimal n = java.math.BigDecimal.valueOf(values.length);
        double exactVariance = squares.subtract(sum.multiply(sum).divide(n, context)).divide(n.subtract(java.math.BigDecimal.ONE), context)
                .doubleValue();
        org.junit.jupiter.api.Assertions.assertEquals(exactVariance, forward.variance(), Math.ulp(exactVariance) * 2);
        org.junit.jupiter.api.Assertions.assertEquals(sum.divide(n, context).doubleValue(), forward.mean(), Math.ulp(forward.mean()));
    }
}
