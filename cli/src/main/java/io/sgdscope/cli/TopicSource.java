package io.sgdscope.cli;

import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Where the commands that read kept topics ({@code export}) find them: a Kafka cluster, or the data a
 * {@code demo --keep} left in its work folder, served by an embedded broker for the time of the command.
 */
final class TopicSource {

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Choice choice = new Choice();

    static final class Choice {
        @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
                description = "Kafka brokers holding the topics. Default: bootstrap.servers of --kafka-config, else "
                        + KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS + ".")
        String bootstrapServers;

        @Option(names = "--embedded", paramLabel = "DIR",
                description = "Read the topics a 'demo --keep' left in its work folder DIR (or a broker data folder): "
                        + "an embedded broker serves them while the command runs.")
        Path embedded;
    }

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Kafka client properties file (security settings) for --bootstrap-servers.")
    Path kafkaConfig;

    /** A connection, and the embedded broker behind it when there is one (closed with the lease). */
    record Lease(KafkaConnection connection, EmbeddedKafkaBroker broker) implements AutoCloseable {
        @Override
        public void close() {
            if (broker != null) {
                broker.close();
            }
        }
    }

    /** @throws IllegalArgumentException for a folder without broker data */
    Lease open() {
        if (choice.embedded == null) {
            Map<String, String> properties = kafkaConfig == null ? Map.of() : KafkaConnection.readClientProperties(kafkaConfig);
            KafkaConnection connection = KafkaConnection.of(choice.bootstrapServers, kafkaConfig, properties);
            connection.awaitReachable(KafkaOptions.ATTEMPTS, KafkaOptions.PER_ATTEMPT);
            return new Lease(connection, null);
        }
        Path dataDir = brokerData(choice.embedded);
        try {
            EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.of(dataDir));
            return new Lease(new KafkaConnection(broker.bootstrapServers(), Map.of()), broker);
        } catch (RuntimeException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
    }

    /** The demo's work folder holds the broker's data in kafka/; a broker data folder holds meta.properties. */
    static Path brokerData(Path folder) {
        if (Files.isRegularFile(folder.resolve("kafka").resolve("meta.properties"))) {
            return folder.resolve("kafka");
        }
        if (Files.isRegularFile(folder.resolve("meta.properties"))) {
            return folder;
        }
        throw new IllegalArgumentException("--embedded " + folder + " holds no Kafka data (expected the work folder of "
                + "'sgdscope demo --keep', with kafka/meta.properties)");
    }

}
