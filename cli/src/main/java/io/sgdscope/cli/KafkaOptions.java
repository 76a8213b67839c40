package io.sgdscope.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Option;

/** Where Kafka is, for the commands that run against any cluster ({@code train}, {@code streams}). */
final class KafkaOptions {

    /** A broker that does not answer is given up on after ATTEMPTS x PER_ATTEMPT (well inside 30 s). */
    static final int ATTEMPTS = 3;
    static final Duration PER_ATTEMPT = Duration.ofSeconds(5);

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers to connect to. Default: bootstrap.servers of --kafka-config, else "
                    + KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS + ".")
    String bootstrapServers;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Kafka client properties file (Java properties), e.g. bootstrap.servers, security.protocol, "
                    + "sasl.*, ssl.* settings; used by every client of the command.")
    Path kafkaConfig;

    @Option(names = "--create-topics", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Create the sgd.* topics that do not exist yet (--no-create-topics to leave topics to an admin). Default: on.")
    boolean createTopics;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "4",
            description = "Partitions of topics created here. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--replication-factor", paramLabel = "N", defaultValue = "1",
            description = "Replication factor of topics created here (3 on a production cluster). Default: ${DEFAULT-VALUE}.")
    short replicationFactor;

    /** @throws IllegalArgumentException for a bad value or an unreadable --kafka-config */
    KafkaConnection connection() {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be >= 1, got " + replicationFactor);
        }
        Map<String, String> properties = kafkaConfig == null ? Map.of() : KafkaConnection.readClientProperties(kafkaConfig);
        return KafkaConnection.of(bootstrapServers, kafkaConfig, properties);
    }

    /** Checks that a broker answers (bounded), then creates missing topics if asked. */
    void prepare(KafkaConnection connection, java.io.PrintWriter out) {
        connection.awaitReachable(ATTEMPTS, PER_ATTEMPT);
        if (createTopics) {
            try (Admin admin = connection.admin()) {
                List<String> created = TopicSetup.ensureTopics(admin, partitions, replicationFactor);
                if (!created.isEmpty()) {
                    out.println("Created topics " + String.join(", ", created));
                }
            }
        }
    }
}
