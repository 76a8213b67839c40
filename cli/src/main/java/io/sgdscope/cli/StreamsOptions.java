package io.sgdscope.cli;

import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** Settings of the two streams apps (quantiles, deviation), shared by {@code streams} and {@code demo}. */
final class StreamsOptions {

    @Option(names = "--application-id", paramLabel = "ID", defaultValue = StreamsSettings.DEFAULT_APPLICATION_ID,
            description = "Prefix of the Kafka Streams application ids: the apps are ID-quantiles and ID-deviation (their "
                    + "consumer groups; instances with the same ID share the work). Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = StreamsSettings.DEFAULT_METRICS_HOST,
            description = "Address the Prometheus endpoint binds to (0.0.0.0 to expose it). Default: ${DEFAULT-VALUE}.")
    String metricsHost;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + StreamsSettings.DEFAULT_METRICS_PORT,
            description = "Port of http://HOST:PORT/metrics, /health (liveness) and /ready (readiness) (0 = any free port). "
                    + "Default: ${DEFAULT-VALUE}.")
    int metricsPort;

    @Option(names = "--stream-threads", paramLabel = "N", defaultValue = "1",
            description = "Kafka Streams threads of each app in this instance. Default: ${DEFAULT-VALUE}.")
    int streamThreads;

    @Option(names = "--processing-guarantee", paramLabel = "MODE", defaultValue = "exactly_once_v2",
            description = "exactly_once_v2 or at_least_once. Default: ${DEFAULT-VALUE}.")
    String processingGuarantee;

    @Option(names = "--commit-interval", paramLabel = "MS", defaultValue = "100",
            description = "Milliseconds between commits; under exactly-once each internal topic a record crosses adds up to "
                    + "one interval of latency. Default: ${DEFAULT-VALUE}.")
    long commitIntervalMs;

    @Option(names = "--standby-replicas", paramLabel = "N", defaultValue = "0",
            description = "Warm copies of each task's state on other instances, for fast fail-over. Default: ${DEFAULT-VALUE}.")
    int standbyReplicas;

    @Option(names = "--quantile-metrics", paramLabel = "NAME", split = ",",
            description = "Metrics with cross-run quantiles (must include loss). Default: every one: loss, lossDelta, "
                    + "minibatchLoss, stepSize, sgNorm, sgCosPrev, trainAccuracy, the moments, supermartingaleHeld and the "
                    + "spectrum scalars.")
    List<String> quantileMetrics;

    @Option(names = "--watched-runs", paramLabel = "N", defaultValue = "" + QuantilesSettings.DEFAULT_WATCHED_RUNS,
            description = "Runs per experiment with series of their own (runIndex below N): rolling quantiles, Δ_t and its "
                    + "Theorem 1 bounds. Default: ${DEFAULT-VALUE}.")
    int watchedRuns;

    @Option(names = "--rolling-window", paramLabel = "W", defaultValue = "" + QuantilesSettings.DEFAULT_ROLLING_WINDOW,
            description = "Iterations of a watched run's rolling quantiles. Default: ${DEFAULT-VALUE}.")
    int rollingWindow;

    @Option(names = "--run-stall-timeout", paramLabel = "SECONDS",
            defaultValue = "" + 15 * 60,
            description = "A run that sent iterations but no RunFinished and then nothing for this many seconds (a crashed "
                    + "trainer) counts as stalled: it stops holding its experiment's frontier back until it sends again. "
                    + "0 = never. Default: ${DEFAULT-VALUE}.")
    long runStallTimeoutSeconds;

    @Option(names = "--deviation-delta", paramLabel = "DELTA", defaultValue = "" + DeviationSettings.DEFAULT_DELTA,
            description = "Confidence δ of Theorem 1's deviation allowance and Theorem 2's envelope. Default: ${DEFAULT-VALUE}.")
    double deviationDelta;

    @Option(names = "--deviation-c", paramLabel = "C", defaultValue = "" + DeviationSettings.DEFAULT_C,
            description = "The absolute constant c of Eq. 28-29 and 32. Default: ${DEFAULT-VALUE}.")
    double deviationC;

    @Option(names = "--deviation-window", paramLabel = "STEPS", defaultValue = "" + DeviationSettings.DEFAULT_WINDOW,
            description = "Checked steps of a run in which Theorem 1 exceedances are counted. Default: ${DEFAULT-VALUE}.")
    int deviationWindow;

    @Option(names = "--deviation-alert-level", paramLabel = "ALPHA", defaultValue = "" + DeviationSettings.DEFAULT_ALERT_LEVEL,
            description = "Level of the one-sided binomial test: an alert when P[Bin(n, δ) >= exceedances] <= ALPHA (and at "
                    + "least 2 exceedances). Default: ${DEFAULT-VALUE}.")
    double deviationAlertLevel;

    @Option(names = "--divergence-factor", paramLabel = "F", defaultValue = "" + DeviationSettings.DEFAULT_DIVERGENCE_FACTOR,
            description = "A run whose loss exceeds F times its initial loss has diverged (as has one with a non-finite loss). "
                    + "Default: ${DEFAULT-VALUE}.")
    double divergenceFactor;

    /** @throws IllegalArgumentException with one line naming the bad setting */
    StreamsSettings toSettings(KafkaConnection connection, Path stateDir) {
        if (commitIntervalMs < 1) {
            throw new IllegalArgumentException("commit interval must be >= 1 ms, got " + commitIntervalMs);
        }
        return new StreamsSettings(connection.bootstrapServers(), applicationId, stateDir, metricsHost, metricsPort,
                streamThreads, processingGuarantee, connection.clientProperties(), Duration.ofMillis(commitIntervalMs),
                Topics.DEAD_LETTERS, standbyReplicas);
    }

    /** @throws IllegalArgumentException with one line naming the bad setting */
    QuantilesSettings toQuantilesSettings() {
        QuantilesSettings defaults = QuantilesSettings.defaults();
        return new QuantilesSettings(quantileMetrics == null || quantileMetrics.isEmpty() ? defaults.metrics() : quantileMetrics,
                defaults.sketchK(), watchedRuns, rollingWindow, defaults.rollingMetrics(), defaults.batchRecords(),
                defaults.emitInterval(), Duration.ofSeconds(runStallTimeoutSeconds));
    }

    /** @throws IllegalArgumentException with one line naming the bad setting */
    DeviationSettings toDeviationSettings() {
        return new DeviationSettings(deviationDelta, deviationC, deviationWindow, deviationAlertLevel, divergenceFactor,
                watchedRuns);
    }
}
