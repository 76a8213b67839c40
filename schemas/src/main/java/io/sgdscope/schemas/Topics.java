package io.sgdscope.schemas;

import java.util.List;
import java.util.Map;

/**
 * The topics of the pipeline (README.md, "Topics"): names, what they carry and how they are configured. Trainers
 * and streams apps share nothing but these names and the schemas.
 */
public final class Topics {

    /** RunStarted / RunFinished, compacted. Keys are {@link #runStartedKey} and {@link #runFinishedKey}. */
    public static final String RUNS = "sgd.runs";
    /** IterationMetrics, key runId: one per run per iteration, the main stream. */
    public static final String ITERATIONS = "sgd.iterations";
    /** SpectrumSnapshot, key runId. */
    public static final String SPECTRA = "sgd.spectra";
    /** QuantileSummary, key {@link #quantileKey}. Output of the quantiles app. */
    public static final String QUANTILES = "sgd.quantiles";
    /** DeviationAlert, key runId. Output of the deviation app. */
    public static final String ALERTS = "sgd.alerts";
    /** Records that could not be read: original key and bytes, the error in headers. */
    public static final String DEAD_LETTERS = "sgd.dlq";

    /** A topic and the configuration it is created with. */
    public record Spec(String name, Map<String, String> config) {}

    private Topics() {}

    /** Every topic of the pipeline with its configuration; telemetry is kept (no time limit) so runs can be replayed. */
    public static List<Spec> all() {
        Map<String, String> kept = Map.of("retention.ms", "-1", "compression.type", "producer");
        return List.of(
                // Compacted: the latest value per key survives, so start and finish need keys of their own.
                new Spec(RUNS, Map.of("cleanup.policy", "compact", "compression.type", "producer")),
                new Spec(ITERATIONS, kept),
                new Spec(SPECTRA, Map.of("retention.ms", "-1", "compression.type", "producer",
                        "max.message.bytes", String.valueOf(8 * 1024 * 1024))),
                new Spec(QUANTILES, Map.of("cleanup.policy", "compact", "compression.type", "producer")),
                new Spec(ALERTS, kept),
                new Spec(DEAD_LETTERS, kept));
    }

    /**
     * Key of a run's RunStarted on {@link #RUNS}. On a compacted topic one key keeps one value, so
     * the start and the finish of a run are keyed apart ("one start and one finish per run").
     */
    public static String runStartedKey(String runId) {
        return runId + "/started";
    }

    /** Key of a run's RunFinished on {@link #RUNS}. */
    public static String runFinishedKey(String runId) {
        return runId + "/finished";
    }

    /** Key of a QuantileSummary on {@link #QUANTILES}: experiment, metric and iteration. */
    public static String quantileKey(String experimentId, String metric, int iteration) {
        return experimentId + "/" + metric + "/" + iteration;
    }
}
