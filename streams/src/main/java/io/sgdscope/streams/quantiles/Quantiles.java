package io.sgdscope.streams.quantiles;

import java.math.BigDecimal;
import java.util.List;

/**
 * The seven quantile levels the paper reads across runs (§5.1, Fig. 8), and their values.
 *
 * <p>Quantile definition (DataSketches' INCLUSIVE search): the q-quantile of n values is the smallest
 * value v such that at least q·n of the values are ≤ v, i.e. the ⌈q·n⌉-th smallest value (the
 * inverse of the empirical distribution function; Hyndman and Fan's type 1). No interpolation: every
 * quantile is one of the values.
 */
public record Quantiles(double p05, double p10, double p25, double p50, double p75, double p90, double p95) {

    /** The levels, in the order of the components. */
    public static final List<Double> LEVELS = List.of(0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95);

    /** The quantiles of no values: all NaN. */
    public static Quantiles undefined() {
        return new Quantiles(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    /** @param values the quantiles at {@link #LEVELS}, in that order */
    public static Quantiles of(double[] values) {
        if (values.length != LEVELS.size()) {
            throw new IllegalArgumentException("expected " + LEVELS.size() + " quantiles, got " + values.length);
        }
        return new Quantiles(values[0], values[1], values[2], values[3], values[4], values[5], values[6]);
    }

    /** The levels as an array, for the sketch. */
    public static double[] levels() {
        return LEVELS.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The value at one of the {@link #LEVELS}. */
    public double at(double level) {
        int index = LEVELS.indexOf(level);
        if (index < 0) {
            throw new IllegalArgumentException("quantile level " + level + " is not one of " + LEVELS);
        }
        return toArray()[index];
    }

    /** The values in the order of {@link #LEVELS}. */
    public double[] toArray() {
        return new double[] {p05, p10, p25, p50, p75, p90, p95};
    }

    /** A level as Prometheus writes it in a {@code quantile} label: "0.05", "0.1", ..., "0.95". */
    public static String label(double level) {
        return BigDecimal.valueOf(level).stripTrailingZeros().toPlainString();
    }
}
