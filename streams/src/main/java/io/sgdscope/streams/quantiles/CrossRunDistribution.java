package io.sgdscope.streams.quantiles;

import static org.apache.datasketches.quantilescommon.QuantileSearchCriteria.INCLUSIVE;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * The values of one metric at one iteration across runs, as kept in the state store: a KLL sketch of
 * the finite values (mergeable, exact min and max, quantiles within a rank error), their exact count
 * and compensated sum for the mean, and a count of the non-finite values, which never enter the sketch.
 *
 * <p>Stored as bytes: a format byte, the non-finite count, the sum and its compensation, then the
 * sketch in DataSketches' own serial form (readable by any DataSketches implementation).
 */
final class CrossRunDistribution {

    private static final byte FORMAT = 1;
    private static final int HEADER_BYTES = 1 + Long.BYTES + 2 * Double.BYTES;

    private final KllDoublesSketch sketch;
    private long nonFinite;
    /** Neumaier's compensated sum of the finite values: sum + compensation is the sum to ~1 ulp. */
    private double sum;
    private double compensation;

    private CrossRunDistribution(KllDoublesSketch sketch, long nonFinite, double sum, double compensation) {
        this.sketch = sketch;
        this.nonFinite = nonFinite;
        this.sum = sum;
        this.compensation = compensation;
    }

    static CrossRunDistribution empty(int sketchK) {
        return new CrossRunDistribution(KllDoublesSketch.newHeapInstance(sketchK), 0, 0.0, 0.0);
    }

    static CrossRunDistribution fromBytes(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte format = buffer.get();
        if (format != FORMAT) {
            throw new IllegalStateException("cross-run distribution in format " + format + ", this version reads " + FORMAT);
        }
        long nonFinite = buffer.getLong();
        double sum = buffer.getDouble();
        double compensation = buffer.getDouble();
        KllDoublesSketch sketch = KllDoublesSketch.heapify(
                Memory.wrap(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, ByteOrder.LITTLE_ENDIAN));
        return new CrossRunDistribution(sketch, nonFinite, sum, compensation);
    }

    byte[] toBytes() {
        byte[] sketchBytes = sketch.toByteArray();
        return ByteBuffer.allocate(HEADER_BYTES + sketchBytes.length).order(ByteOrder.LITTLE_ENDIAN)
                .put(FORMAT).putLong(nonFinite).putDouble(sum).putDouble(compensation).put(sketchBytes)
                .array();
    }

    /** Counts one run's value; NaN and ±∞ are only counted, as a sketch cannot order them. */
    void add(double value) {
        if (!Double.isFinite(value)) {
            nonFinite++;
            return;
        }
        sketch.update(value);
        double total = sum + value;
        compensation += Math.abs(sum) >= Math.abs(value) ? (sum - total) + value : (value - total) + sum;
        sum = total;
    }

    long count() {
        return sketch.getN();
    }

    long nonFinite() {
        return nonFinite;
    }

    double mean() {
        return count() == 0 ? Double.NaN : (sum + compensation) / count();
    }

    double min() {
        return sketch.isEmpty() ? Double.NaN : sketch.getMinItem();
    }

    double max() {
        return sketch.isEmpty() ? Double.NaN : sketch.getMaxItem();
    }

    Quantiles quantiles() {
        return sketch.isEmpty() ? Quantiles.undefined() : Quantiles.of(sketch.getQuantiles(Quantiles.levels(), INCLUSIVE));
    }

    /** The a-priori single-quantile rank error at 99 % confidence; 0 while no value has been compacted away. */
    double normalizedRankError() {
        return sketch.isEstimationMode() ? sketch.getNormalizedRankError(false) : 0.0;
    }

    CrossRunBand band(String experimentId, String metric, int iteration, long updatedAtMillis) {
        return new CrossRunBand(experimentId, metric, iteration, count(), nonFinite, mean(), min(), max(),
                quantiles(), normalizedRankError(), updatedAtMillis);
    }
}
