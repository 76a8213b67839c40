package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.Topics;
import java.util.Objects;

/**
 * The distribution across the runs of one experiment of one metric at one iteration: what a
 * {@link QuantileSummary} says, plus how many runs sent a non-finite value (those are kept out of
 * the sketch and out of {@code count}).
 *
 * @param count finite values counted (the sketch's n)
 * @param nonFinite runs whose value was NaN or infinite
 * @param variance unbiased sample variance of the finite values (Fig. 10 for Δ_t); NaN below two values
 * @param normalizedRankError the sketch's a-priori bound at 99 % confidence; 0 while it holds every value
 * @param updatedAtMillis wall-clock time of the update that made this band
 */
public record CrossRunBand(String experimentId, String metric, int iteration, long count, long nonFinite,
                           double mean, double variance, double min, double max, Quantiles quantiles,
                           double normalizedRankError, long updatedAtMillis) {

    public CrossRunBand {
        Objects.requireNonNull(experimentId, "experimentId");
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(quantiles, "quantiles");
        if (count < 0 || nonFinite < 0) {
            throw new IllegalArgumentException("counts must not be negative: count " + count + ", nonFinite " + nonFinite);
        }
    }

    /** Runs that reached this iteration: finite and non-finite values. */
    public long runs() {
        return count + nonFinite;
    }

    public double median() {
        return quantiles.p50();
    }

    /** The key of this band on {@link Topics#QUANTILES}. */
    public String quantileKey() {
        return Topics.quantileKey(experimentId, metric, iteration);
    }

    /** The record published to {@link Topics#QUANTILES}. */
    public QuantileSummary toSummary() {
        return QuantileSummary.newBuilder()
                .setExperimentId(experimentId)
                .setMetric(metric)
                .setIteration(iteration)
                .setCount(count)
                .setMean(mean)
                .setMin(min)
                .setMax(max)
                .setP05(quantiles.p05())
                .setP10(quantiles.p10())
                .setP25(quantiles.p25())
                .setP50(quantiles.p50())
                .setP75(quantiles.p75())
                .setP90(quantiles.p90())
                .setP95(quantiles.p95())
                .setNormalizedRankError(normalizedRankError)
                .setUpdatedAtMillis(updatedAtMillis)
                .setNonFinite(nonFinite)
                .setVariance(Double.isNaN(variance) ? null : variance)
                .build();
    }
}
