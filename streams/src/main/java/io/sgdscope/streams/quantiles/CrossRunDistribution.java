package io.sgdscope.streams.quantiles;

import static org.apache.datasketches.quantilescommon.QuantileSearchCriteria.INCLUSIVE;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The values of one metric at one iteration across runs, as kept in the state store: a KLL sketch of
 * the finite values (mergeable, exact min and max, quantiles within a rank error), their exact count
 * and compensated sum for the mean, and a count of the non-finite values, which never enter the sketch.
 *
 * <p>The sums of the values and of their squares are kept in double-double arithmetic (about 32
 * significant digits, error-free TwoSum and TwoProduct steps): the mean and the unbiased sample variance
 * (Σx² − (Σx)²/n)/(n − 1) (Fig. 10 shows that of Δ_t(f)) are then accurate where float64 would cancel,
 * and — what a replay needs to reproduce the live outputs exactly — they do not depend on the order
 * in which the runs' values arrived (up to the final rounding to float64).
 *
 * <p>Stored as bytes: a format byte, the non-finite count, the two double-double sums, then the sketch in
 * DataSketches' own serial form (readable by any DataSketches implementation). Formats 1 (no variance)
 * and 2 (Welford's mean and M₂) are still read.
 */
final class CrossRunDistribution {

    private static final byte FORMAT = 3;
    private static final byte FORMAT_WELFORD = 2;
    private static final byte FORMAT_WITHOUT_VARIANCE = 1;
    private static final int HEADER_BYTES = 1 + Long.BYTES + 4 * Double.BYTES;
    private static final int HEADER_BYTES_WITHOUT_VARIANCE = 1 + Long.BYTES + 2 * Double.BYTES;

    private final KllDoublesSketch sketch;
    private long nonFinite;
    /** Σx as a double-double: sumHi + sumLo. */
    private double sumHi;
    private double sumLo;
    /** Σx² as a double-double: squaresHi + squaresLo (NaN: unknown, read from format 1). */
    private double squaresHi;
    private double squaresLo;

    private CrossRunDistribution(KllDoublesSketch sketch, long nonFinite, double sumHi, double sumLo, double squaresHi,
                                 double squaresLo) {
        this.sketch = sketch;
        this.nonFinite = nonFinite;
        this.sumHi = sumHi;
        this.sumLo = sumLo;
        this.squaresHi = squaresHi;
        this.squaresLo = squaresLo;
    }

    static CrossRunDistribution empty(int sketchK) {
        return new CrossRunDistribution(KllDoublesSketch.newHeapInstance(sketchK), 0, 0.0, 0.0, 0.0, 0.0);
    }

    /** Stored as {@link #toBytes()}. */
    static Serde<CrossRunDistribution> serde() {
        return Serdes.serdeFrom((topic, distribution) -> distribution == null ? null : distribution.toBytes(),
                (topic, bytes) -> bytes == null ? null : fromBytes(bytes));
    }

    static CrossRunDistribution fromBytes(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte format = buffer.get();
        if (format != FORMAT && format != FORMAT_WELFORD && format != FORMAT_WITHOUT_VARIANCE) {
            throw new IllegalStateException("cross-run distribution in format " + format + ", this version reads "
                    + FORMAT_WITHOUT_VARIANCE + " to " + FORMAT);
        }
        long nonFinite = buffer.getLong();
        double sumHi = buffer.getDouble();
        double sumLo = buffer.getDouble();
        double squaresHi = Double.NaN;
        double squaresLo = 0;
        int header = HEADER_BYTES_WITHOUT_VARIANCE;
        if (format == FORMAT) {
            squaresHi = buffer.getDouble();
            squaresLo = buffer.getDouble();
            header = HEADER_BYTES;
        } else if (format == FORMAT_WELFORD) {
            double welfordMean = buffer.getDouble();
            double m2 = buffer.getDouble();
            header = HEADER_BYTES;
            KllDoublesSketch sketch = KllDoublesSketch.heapify(
                    Memory.wrap(bytes, header, bytes.length - header, ByteOrder.LITTLE_ENDIAN));
            // Σx² = M₂ + n·mean² (to float64 accuracy: an old state is carried over, not re-summed).
            return new CrossRunDistribution(sketch, nonFinite, sumHi, sumLo, m2 + sketch.getN() * welfordMean * welfordMean, 0);
        }
        KllDoublesSketch sketch = KllDoublesSketch.heapify(
                Memory.wrap(bytes, header, bytes.length - header, ByteOrder.LITTLE_ENDIAN));
        return new CrossRunDistribution(sketch, nonFinite, sumHi, sumLo, squaresHi, squaresLo);
    }

    byte[] toBytes() {
        byte[] sketchBytes = sketch.toByteArray();
        return ByteBuffer.allocate(HEADER_BYTES + sketchBytes.length).order(ByteOrder.LITTLE_ENDIAN)
                .put(FORMAT).putLong(nonFinite).putDouble(sumHi).putDouble(sumLo)
                .putDouble(squaresHi).putDouble(squaresLo).put(sketchBytes)
                .array();
    }

    /** Counts one run's value; NaN and ±∞ are only counted, as a sketch cannot order them. */
    void add(double value) {
        if (!Double.isFinite(value)) {
            nonFinite++;
            return;
        }
        sketch.update(value);
        double[] sum = addDoubleDouble(sumHi, sumLo, value, 0);
        sumHi = sum[0];
        sumLo = sum[1];
        double square = value * value;
        double squareError = Math.fma(value, value, -square); // TwoProduct: value² = square + squareError exactly
        double[] squares = addDoubleDouble(squaresHi, squaresLo, square, squareError);
        squaresHi = squares[0];
        squaresLo = squares[1];
    }

    /**
     * Counts the runs' values {@code values[0 .. count)} as {@link #add} does one by one (the same sums,
     * bit for bit; the sketch gets the finite values in one bulk update).
     *
     * @param scratch room for the finite values, at least {@code count} long (the caller's, reused)
     * @return how many of them were NaN or infinite
     */
    int addAll(double[] values, int count, double[] scratch) {
        double[] finite = scratch;
        int kept = 0;
        double hi = sumHi;
        double lo = sumLo;
        double squaresHigh = squaresHi;
        double squaresLow = squaresLo;
        for (int i = 0; i < count; i++) {
            double value = values[i];
            if (!Double.isFinite(value)) {
                continue;
            }
            finite[kept++] = value;
            // Σx += value, double-double (TwoSum, then renormalised), as addDoubleDouble(hi, lo, value, 0)
            double s = hi + value;
            double v = s - hi;
            double e = (hi - (s - v)) + (value - v) + lo;
            hi = s + e;
            lo = e - (hi - s);
            // Σx² += value², with value² = square + squareError exactly (TwoProduct)
            double square = value * value;
            double squareError = Math.fma(value, value, -square);
            double s2 = squaresHigh + square;
            double v2 = s2 - squaresHigh;
            double e2 = (squaresHigh - (s2 - v2)) + (square - v2) + (squaresLow + squareError);
            squaresHigh = s2 + e2;
            squaresLow = e2 - (squaresHigh - s2);
        }
        sumHi = hi;
        sumLo = lo;
        squaresHi = squaresHigh;
        squaresLo = squaresLow;
        if (kept > 0) {
            sketch.update(finite, 0, kept);
        }
        nonFinite += count - kept;
        return count - kept;
    }

    /** (aHi + aLo) + (bHi + bLo) in double-double arithmetic (TwoSum of the high parts, then renormalised). */
    static double[] addDoubleDouble(double aHi, double aLo, double bHi, double bLo) {
        double s = aHi + bHi;
        double v = s - aHi;
        double e = (aHi - (s - v)) + (bHi - v); // TwoSum: aHi + bHi = s + e exactly
        e += aLo + bLo;
        double hi = s + e;
        return new double[] {hi, e - (hi - s)};
    }

    long count() {
        return sketch.getN();
    }

    long nonFinite() {
        return nonFinite;
    }

    double mean() {
        return count() == 0 ? Double.NaN : (sumHi + sumLo) / count();
    }

    /** Unbiased sample variance of the finite values, (Σx² − (Σx)²/n)/(n − 1) in double-double; NaN below two values. */
    double variance() {
        long n = count();
        if (n < 2 || Double.isNaN(squaresHi)) {
            return Double.NaN;
        }
        // (Σx)²/n in double-double: square the double-double sum, divide by n.
        double square = sumHi * sumHi;
        double squareError = Math.fma(sumHi, sumHi, -square) + 2 * sumHi * sumLo;
        double[] sumSquared = addDoubleDouble(square, 0, squareError, 0);
        double quotient = sumSquared[0] / n;
        double remainder = Math.fma(-quotient, n, sumSquared[0]) + sumSquared[1];
        double[] meanPart = addDoubleDouble(quotient, 0, remainder / n, 0);
        double[] centred = addDoubleDouble(squaresHi, squaresLo, -meanPart[0], -meanPart[1]);
        return Math.max(0, centred[0] + centred[1]) / (n - 1);
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
