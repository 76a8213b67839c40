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
 * <p>The variance (Fig. 10 shows that of Δ_t(f)) is the unbiased sample variance M₂/(n − 1), with M₂
 * kept by Welford's update, which stays accurate where the textbook Σx² − n·mean² cancels.
 *
 * <p>Stored as bytes: a format byte, the non-finite count, the sum and its compensation, Welford's mean
 * and M₂, then the sketch in DataSketches' own serial form (readable by any DataSketches implementation).
 * Format 1 (before the variance) is still read; its variance stays unknown (NaN).
 */
final class CrossRunDistribution {

    private static final byte FORMAT = 2;
    private static final byte FORMAT_WITHOUT_VARIANCE = 1;
    private static final int HEADER_BYTES = 1 + Long.BYTES + 4 * Double.BYTES;
    private static final int HEADER_BYTES_WITHOUT_VARIANCE = 1 + Long.BYTES + 2 * Double.BYTES;

    private final KllDoublesSketch sketch;
    private long nonFinite;
    /** Neumaier's compensated sum of the finite values: sum + compensation is the sum to ~1 ulp. */
    private double sum;
    private double compensation;
    /** Welford's running mean and sum of squared deviations M₂ (NaN: unknown, from format 1). */
    private double welfordMean;
    private double m2;

    private CrossRunDistribution(KllDoublesSketch sketch, long nonFinite, double sum, double compensation,
                                 double welfordMean, double m2) {
        this.sketch = sketch;
        this.nonFinite = nonFinite;
        this.sum = sum;
        this.compensation = compensation;
        this.welfordMean = welfordMean;
        this.m2 = m2;
    }

    static CrossRunDistribution empty(int sketchK) {
        return new CrossRunDistribution(KllDoublesSketch.newHeapInstance(sketchK), 0, 0.0, 0.0, 0.0, 0.0);
    }

    static CrossRunDistribution fromBytes(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte format = buffer.get();
        if (format != FORMAT && format != FORMAT_WITHOUT_VARIANCE) {
            throw new IllegalStateException("cross-run distribution in format " + format + ", this version reads "
                    + FORMAT_WITHOUT_VARIANCE + " and " + FORMAT);
        }
        long nonFinite = buffer.getLong();
        double sum = buffer.getDouble();
        double compensation = buffer.getDouble();
        double welfordMean = Double.NaN;
        double m2 = Double.NaN;
        int header = HEADER_BYTES_WITHOUT_VARIANCE;
        if (format == FORMAT) {
            welfordMean = buffer.getDouble();
            m2 = buffer.getDouble();
            header = HEADER_BYTES;
        }
        KllDoublesSketch sketch = KllDoublesSketch.heapify(
                Memory.wrap(bytes, header, bytes.length - header, ByteOrder.LITTLE_ENDIAN));
        return new CrossRunDistribution(sketch, nonFinite, sum, compensation, welfordMean, m2);
    }

    byte[] toBytes() {
        byte[] sketchBytes = sketch.toByteArray();
        return ByteBuffer.allocate(HEADER_BYTES + sketchBytes.length).order(ByteOrder.LITTLE_ENDIAN)
                .put(FORMAT).putLong(nonFinite).putDouble(sum).putDouble(compensation)
                .putDouble(welfordMean).putDouble(m2).put(sketchBytes)
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
        double deviation = value - welfordMean;
        welfordMean += deviation / sketch.getN();
        m2 += deviation * (value - welfordMean);
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

    /** Unbiased sample variance of the finite values, M₂/(n − 1); NaN below two values. */
    double variance() {
        return count() < 2 ? Double.NaN : m2 / (count() - 1);
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
        return new CrossRunBand(experimentId, metric, iteration, count(), nonFinite, mean(), variance(), min(), max(),
                quantiles(), normalizedRankError(), updatedAtMillis);
    }
}
