package io.sgdscope.client;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Where the telemetry goes: the cluster's bootstrap servers and further Kafka client properties (security settings
 * of a secured cluster: {@code security.protocol}, {@code sasl.*}, {@code ssl.*}), as the {@code --kafka-config} file
 * of the {@code sgdscope} command gives them. The properties override the publisher's producer defaults
 * ({@link KafkaTelemetryPublisher#producerProperties}).
 *
 * @param bootstrapServers host:port list of the cluster
 * @param properties       further producer properties (never {@code bootstrap.servers})
 */
public record KafkaClientSettings(String bootstrapServers, Map<String, String> properties) {

    /** @throws IllegalArgumentException for empty bootstrap servers, or a property the producer refuses */
    public KafkaClientSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers must not be empty");
        }
        bootstrapServers = bootstrapServers.strip();
        properties = Map.copyOf(properties);
        if (properties.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException("give bootstrap.servers as bootstrapServers, not among the properties");
        }
        checkProducerProperties(properties);
    }

    /** A cluster without further properties (PLAINTEXT). */
    public static KafkaClientSettings of(String bootstrapServers) {
        return new KafkaClientSettings(bootstrapServers, Map.of());
    }

    /**
     * The settings a {@code --kafka-config}-style file (Java properties format) gives: its {@code bootstrap.servers}
     * counts like {@code bootstrapServers} (if both are given they must agree), its other properties are checked
     * against the producer's definitions (names the producer does not define, such as config providers, are passed on).
     *
     * @param bootstrapServers the cluster, or null to take {@code bootstrap.servers} from the file
     * @throws IllegalArgumentException (one line) for a missing or unreadable file, no bootstrap servers at all, the
     *                                  two disagreeing, or a value the producer refuses
     */
    public static KafkaClientSettings fromFile(String bootstrapServers, Path file) {
        Map<String, String> properties = readProperties("Kafka client properties", file);
        String servers = bootstrapServers(properties, "bootstrap servers", bootstrapServers, file.toString(), null);
        if (servers == null) {
            throw new IllegalArgumentException("no bootstrap servers: give them, or bootstrap.servers in " + file);
        }
        try {
            return new KafkaClientSettings(servers, properties);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    /**
     * Reads Kafka client properties (Java properties format) from a file: the one reader of the client's
     * {@link #fromFile} and of the {@code sgdscope} command's {@code --kafka-config}.
     *
     * @param fileName how the one-line errors name the file, e.g. "--kafka-config"
     * @return a modifiable map of its properties
     * @throws IllegalArgumentException "cannot read {fileName} {file}: no such file" (or the reader's reason)
     */
    public static Map<String, String> readProperties(String fileName, Path file) {
        Properties loaded = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            loaded.load(reader);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read " + fileName + " " + file + ": no such file");
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read " + fileName + " " + file + ": " + e.getMessage());
        }
        Map<String, String> properties = new HashMap<>();
        loaded.stringPropertyNames().forEach(name -> properties.put(name, loaded.getProperty(name)));
        return properties;
    }

    /**
     * Takes {@code bootstrap.servers} out of a file's properties and reconciles it with the servers given apart:
     * the file's counts like them, and if both are given they must agree.
     *
     * @param properties the file's properties; {@code bootstrap.servers} is removed from them
     * @param givenName  how the errors name the servers given apart, e.g. "--bootstrap-servers"
     * @param given      the servers given apart, or null
     * @param fileName   how the errors name the file, e.g. "--kafka-config /etc/client.properties"
     * @param fallback   the servers when neither gives them, or null
     * @return the servers given apart, else the file's, else {@code fallback}
     * @throws IllegalArgumentException (one line) when the two disagree
     */
    public static String bootstrapServers(Map<String, String> properties, String givenName, String given,
                                          String fileName, String fallback) {
        String fromFile = properties.remove(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
        if (fromFile != null && given != null && !fromFile.strip().equals(given.strip())) {
            throw new IllegalArgumentException(givenName + " " + given + " and bootstrap.servers " + fromFile + " in "
                    + fileName + " disagree: give one of them");
        }
        return given != null ? given : fromFile != null ? fromFile : fallback;
    }

    /** The producer properties a publisher on these settings uses: the telemetry defaults, then {@link #properties}. */
    public Map<String, Object> producerProperties() {
        return KafkaTelemetryPublisher.producerProperties(bootstrapServers, properties);
    }

    /** Parses each property the producer defines with its own definition, so that a bad value fails here, in one line. */
    private static void checkProducerProperties(Map<String, String> properties) {
        checkProperties(properties, List.of(ProducerConfig.configDef()));
    }

    /**
     * Parses each property that one of {@code definitions} defines with that definition (its type and validator),
     * so that an unparsable or unknown value (linger.ms=soon) fails in one line before any client starts. Names no
     * definition holds are left alone: config providers and plug-ins read their own.
     *
     * @throws IllegalArgumentException with the Kafka clients' one-line reason
     */
    public static void checkProperties(Map<String, String> properties, List<ConfigDef> definitions) {
        for (Map.Entry<String, String> property : properties.entrySet()) {
            for (ConfigDef definition : definitions) {
                ConfigDef.ConfigKey key = definition.configKeys().get(property.getKey());
                if (key == null) {
                    continue;
                }
                try {
                    Object value = ConfigDef.parseType(key.name, property.getValue(), key.type);
                    if (key.validator != null) {
                        key.validator.ensureValid(key.name, value);
                    }
                } catch (ConfigException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
            }
        }
    }
}
