package io.sgdscope.streams.runs;

import io.sgdscope.schemas.Topics;
import java.util.Objects;

/**
 * What the streams apps read and where they write. The live apps read everything and write to
 * {@link Topics#QUANTILES} and {@link Topics#ALERTS}; a replay reads one experiment (and an iteration
 * range) and writes to topics of its own, so the live apps' outputs are never touched.
 *
 * @param experimentId   only records of this experiment, or null for all
 * @param firstIteration iterations before this are skipped (spectra too)
 * @param lastIteration  iterations after this are skipped
 * @param quantilesTopic where the quantiles app writes its QuantileSummary records
 * @param alertsTopic    where the deviation app writes its DeviationAlert records
 */
public record AppScope(String experimentId, int firstIteration, int lastIteration, String quantilesTopic, String alertsTopic) {

    /** Everything, to the live topics. */
    public static final AppScope LIVE = new AppScope(null, 0, Integer.MAX_VALUE, Topics.QUANTILES, Topics.ALERTS);

    public AppScope {
        if (firstIteration < 0 || lastIteration < firstIteration) {
            throw new IllegalArgumentException("iteration range must be 0 <= first <= last, was " + firstIteration + ".." + lastIteration);
        }
        Objects.requireNonNull(quantilesTopic, "quantilesTopic");
        Objects.requireNonNull(alertsTopic, "alertsTopic");
    }

    boolean includesExperiment(String experiment) {
        return experimentId == null || experimentId.equals(experiment);
    }

    boolean includesIteration(int iteration) {
        return iteration >= firstIteration && iteration <= lastIteration;
    }

    /** Whether any filter applies (the live apps skip the filter nodes). */
    boolean filters() {
        return experimentId != null || firstIteration > 0 || lastIteration < Integer.MAX_VALUE;
    }
}
