package io.sgdscope.schemas.serde;

import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/** The value serde of each topic of {@link Topics}. */
public final class TelemetrySerdes {

    private TelemetrySerdes() {}

    /** {@link Topics#RUNS}: RunStarted and RunFinished. */
    public static TelemetrySerde<SpecificRecord> runs() {
        return new TelemetrySerde<>(SpecificRecord.class, List.of(RunStarted.class, RunFinished.class),
                SchemaCatalog.defaultCatalog());
    }

    /**
     * {@link Topics#ITERATIONS} as every reader sees it: IterationFrame records, and per-run IterationMetrics
     * read as frames of one run.
     */
    public static FrameSerde frames() {
        return new FrameSerde();
    }

    /** {@link Topics#ITERATIONS}, the per-run records only (a trainer that publishes per run; see {@link #frames()}). */
    public static TelemetrySerde<IterationMetrics> iterations() {
        return of(IterationMetrics.class);
    }

    /** {@link Topics#SPECTRA}. */
    public static TelemetrySerde<SpectrumSnapshot> spectra() {
        return of(SpectrumSnapshot.class);
    }

    /** {@link Topics#QUANTILES}. */
    public static TelemetrySerde<QuantileSummary> quantiles() {
        return of(QuantileSummary.class);
    }

    /** {@link Topics#ALERTS}. */
    public static TelemetrySerde<DeviationAlert> alerts() {
        return of(DeviationAlert.class);
    }

    private static <T extends SpecificRecord> TelemetrySerde<T> of(Class<T> type) {
        return new TelemetrySerde<>(type, List.of(type), SchemaCatalog.defaultCatalog());
    }
}
