package io.sgdscope.streams;

import io.sgdscope.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.streams.StreamsConfig;

/**
 * How to run the streams apps of sgdscope (the quantiles app and the deviation app): where Kafka is
 * and how Kafka Streams runs them. Validated on construction; every message is one line.
 *
 * @param bootstrapServers Kafka's {@code host:port[,host:port...]}
 * @param applicationId prefix of the apps' Kafka Streams application ids, {@code <id>-quantiles} and
 *                      {@code <id>-deviation} (their consumer groups and the prefixes of their internal
 *                      topics); instances with the same id share the work
 * @param stateDir where the state stores live (RocksDB), e.g. under the work folder
 * @param metricsHost address the metrics server binds to; loopback unless told otherwise
 * @param metricsPort its port; 0 picks a free one
 * @param numStreamThreads stream threads of this instance
 * @param processingGuarantee {@value StreamsConfig#EXACTLY_ONCE_V2} or {@value StreamsConfig#AT_LEAST_ONCE}
 * @param clientProperties further Kafka client properties, e.g. {@code security.protocol}, {@code sasl.*},
 *                         {@code ssl.*}; not those the other components set
 * @param commitInterval how often progress is committed (under exactly-once: how often output becomes
 *                       visible downstream; each internal topic a record crosses adds up to one interval
 *                       to the latency, so the default is Kafka's exactly-once default, 100 ms)
 * @param deadLetterTopic where unreadable and unprocessable records are copied (KIP-1034), or null to only log and
 *                        count them
 * @param standbyReplicas warm copies of each task's state kept on other instances, for fast fail-over
 */
public record StreamsSettings(String bootstrapServers, String applicationId, Path stateDir, String metricsHost,
                              int metricsPort, int numStreamThreads, String processingGuarantee,
                              Map<String, String> clientProperties, Duration commitInterval, String deadLetterTopic,
                              int standbyReplicas) {

    public static final String DEFAULT_APPLICATION_ID = "sgdscope";
    public static final String QUANTILES_SUFFIX = "-quantiles";
    public static final String DEVIATION_SUFFIX = "-deviation";
    public static final String DEFAULT_METRICS_HOST = "127.0.0.1";
    public static final int DEFAULT_METRICS_PORT = 9400;
    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(100);

    /** Characters Kafka allows in topic names; the application id prefixes internal topic names. */
    private static final Pattern APPLICATION_ID = Pattern.compile("[A-Za-z0-9._-]{1,180}");

    /** Properties the settings set themselves; a client property must not override them. */
    private static final Set<String> OWN_PROPERTIES = Set.of(
            StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, StreamsConfig.APPLICATION_ID_CONFIG, StreamsConfig.STATE_DIR_CONFIG,
            StreamsConfig.NUM_STREAM_THREADS_CONFIG, StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
            StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG,
            StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.DEFAULT_PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG);

    public StreamsSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers is required, e.g. 127.0.0.1:9092");
        }
        bootstrapServers = bootstrapServers.strip();
        if (applicationId == null || !APPLICATION_ID.matcher(applicationId).matches()) {
            throw new IllegalArgumentException("applicationId must be 1-180 of A-Z a-z 0-9 . _ - (it prefixes topic names), was '"
                    + applicationId + "'");
        }
        if (stateDir == null) {
            throw new IllegalArgumentException("stateDir is required: a folder for the state stores");
        }
        if (metricsHost == null || metricsHost.isBlank()) {
            throw new IllegalArgumentException("metricsHost is required, e.g. " + DEFAULT_METRICS_HOST);
        }
        if (metricsPort < 0 || metricsPort > 65_535) {
            throw new IllegalArgumentException("metricsPort must be in 0..65535 (0 = any free port), was " + metricsPort);
        }
        if (numStreamThreads < 1) {
            throw new IllegalArgumentException("numStreamThreads must be at least 1, was " + numStreamThreads);
        }
        if ("exactly_once".equals(processingGuarantee) || "exactly_once_beta".equals(processingGuarantee)) {
            throw new IllegalArgumentException("processingGuarantee " + processingGuarantee
                    + " was removed in Kafka 4; use " + StreamsConfig.EXACTLY_ONCE_V2);
        }
        if (!StreamsConfig.EXACTLY_ONCE_V2.equals(processingGuarantee) && !StreamsConfig.AT_LEAST_ONCE.equals(processingGuarantee)) {
            throw new IllegalArgumentException("processingGuarantee must be " + StreamsConfig.EXACTLY_ONCE_V2 + " or "
                    + StreamsConfig.AT_LEAST_ONCE + ", was " + processingGuarantee);
        }
        clientProperties = clientProperties == null ? Map.of() : Map.copyOf(clientProperties);
        for (String key : clientProperties.keySet()) {
            if (OWN_PROPERTIES.contains(key)) {
                throw new IllegalArgumentException("client property " + key + " is set by the settings themselves; set it there");
            }
        }
        if (commitInterval == null || commitInterval.isNegative() || commitInterval.isZero()) {
            throw new IllegalArgumentException("commitInterval must be positive, was " + commitInterval);
        }
        if (deadLetterTopic != null && deadLetterTopic.isBlank()) {
            throw new IllegalArgumentException("deadLetterTopic must be a topic name or null (no dead-letter topic)");
        }
        if (standbyReplicas < 0 || standbyReplicas > 10) {
            throw new IllegalArgumentException("standbyReplicas must be in 0..10, was " + standbyReplicas);
        }
    }

    /** The quantiles app's application id. */
    public String quantilesApplicationId() {
        return applicationId + QUANTILES_SUFFIX;
    }

    /** The deviation app's application id. */
    public String deviationApplicationId() {
        return applicationId + DEVIATION_SUFFIX;
    }

    /** Defaults for everything but where Kafka is and where state goes. */
    public static StreamsSettings defaults(String bootstrapServers, Path stateDir) {
        return new StreamsSettings(bootstrapServers, DEFAULT_APPLICATION_ID, stateDir, DEFAULT_METRICS_HOST,
                DEFAULT_METRICS_PORT, 1, StreamsConfig.EXACTLY_ONCE_V2, Map.of(), DEFAULT_COMMIT_INTERVAL,
                Topics.DEAD_LETTERS, 0);
    }

    public StreamsSettings withApplicationId(String newApplicationId) {
        return new StreamsSettings(bootstrapServers, newApplicationId, stateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, clientProperties, commitInterval, deadLetterTopic, standbyReplicas);
    }

    public StreamsSettings withMetrics(String newHost, int newPort) {
        return new StreamsSettings(bootstrapServers, applicationId, stateDir, newHost, newPort,
                numStreamThreads, processingGuarantee, clientProperties, commitInterval, deadLetterTopic, standbyReplicas);
    }

    public StreamsSettings withStateDir(Path newStateDir) {
        return new StreamsSettings(bootstrapServers, applicationId, newStateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, clientProperties, commitInterval, deadLetterTopic, standbyReplicas);
    }

    public StreamsSettings withCommitInterval(Duration newCommitInterval) {
        return new StreamsSettings(bootstrapServers, applicationId, stateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, clientProperties, newCommitInterval, deadLetterTopic, standbyReplicas);
    }

    public StreamsSettings withStandbyReplicas(int newStandbyReplicas) {
        return new StreamsSettings(bootstrapServers, applicationId, stateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, clientProperties, commitInterval, deadLetterTopic, newStandbyReplicas);
    }

    /** The same settings with another dead-letter topic, or none (null: unreadable records are only logged and counted). */
    public StreamsSettings withDeadLetterTopic(String newDeadLetterTopic) {
        return new StreamsSettings(bootstrapServers, applicationId, stateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, clientProperties, commitInterval, newDeadLetterTopic, standbyReplicas);
    }

    public StreamsSettings withClientProperties(Map<String, String> newClientProperties) {
        return new StreamsSettings(bootstrapServers, applicationId, stateDir, metricsHost, metricsPort,
                numStreamThreads, processingGuarantee, newClientProperties, commitInterval, deadLetterTopic, standbyReplicas);
    }

    /** The Kafka Streams configuration of the app with this application id (without sgdscope's own objects). */
    public Properties toStreamsProperties(String appId) {
        Properties properties = new Properties();
        properties.putAll(clientProperties);
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        properties.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
        properties.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
        properties.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, numStreamThreads);
        properties.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee);
        properties.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        properties.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UnreadableRecordHandler.class);
        // Records read but not processable are skipped and dead-lettered too, rather than stopping the app.
        properties.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, FailedRecordHandler.class);
        properties.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, FailedRecordHandler.class);
        if (deadLetterTopic != null) {
            properties.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, deadLetterTopic);
        }
        return properties;
    }
}
