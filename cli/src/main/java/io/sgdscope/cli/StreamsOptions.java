package io.sgdscope.cli;

import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.StreamsSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Settings of the streams app, shared by {@code streams} and {@code demo}. */
final class StreamsOptions {

    @Option(names = "--application-id", paramLabel = "ID", defaultValue = StreamsSettings.DEFAULT_APPLICATION_ID,
            description = "Kafka Streams application id (consumer group; instances with the same id share the work). "
                    + "Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = StreamsSettings.DEFAULT_METRICS_HOST,
            description = "Address the Prometheus endpoint binds to (0.0.0.0 to expose it). Default: ${DEFAULT-VALUE}.")
    String metricsHost;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + StreamsSettings.DEFAULT_METRICS_PORT,
            description = "Port of the Prometheus endpoint http://HOST:PORT/metrics (0 = any free port). Default: ${DEFAULT-VALUE}.")
    int metricsPort;

    @Option(names = "--stream-threads", paramLabel = "N", defaultValue = "1",
            description = "Kafka Streams threads of this instance. Default: ${DEFAULT-VALUE}.")
    int streamThreads;

    @Option(names = "--processing-guarantee", paramLabel = "MODE", defaultValue = "exactly_once_v2",
            description = "exactly_once_v2 or at_least_once. Default: ${DEFAULT-VALUE}.")
    String processingGuarantee;

    /** @throws IllegalArgumentException with one line naming the bad setting */
    StreamsSettings toSettings(KafkaConnection connection, Path stateDir) {
        return new StreamsSettings(connection.bootstrapServers(), applicationId, stateDir, metricsHost, metricsPort,
                streamThreads, processingGuarantee, connection.clientProperties(), StreamsSettings.DEFAULT_COMMIT_INTERVAL,
                Topics.DEAD_LETTERS);
    }
}
