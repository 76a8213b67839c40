package io.sgdscope.cli;

import io.sgdscope.client.KafkaClientSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.AuthenticationException;

/**
 * How to reach a Kafka cluster: bootstrap servers plus client properties (security settings) from a
 * {@code --kafka-config} file, and a bounded check that a broker answers before any work starts.
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> clientProperties) {

    public KafkaConnection {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers must not be empty");
        }
        clientProperties = Map.copyOf(clientProperties);
    }

    /** Reads client properties (Java properties format) from a file; a missing file is a bad argument. */
    public static Map<String, String> readClientProperties(Path file) {
        return KafkaClientSettings.readProperties("--kafka-config", file);
    }

    /** Where Kafka is when neither --bootstrap-servers nor the --kafka-config file says. */
    public static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";

    /**
     * The connection a command's options describe: {@code bootstrap.servers} from the --kafka-config file counts
     * like --bootstrap-servers (for every client: the reachability check, producers, consumers, streams apps), and
     * the file's other properties are checked against the Kafka clients' definitions before anything connects.
     *
     * @param bootstrapServers --bootstrap-servers, or null when not given
     * @param file             the --kafka-config file (for messages), or null
     * @param fileProperties   its properties (empty without a file)
     * @throws IllegalArgumentException when the two disagree, or a property has a value the Kafka clients refuse
     */
    public static KafkaConnection of(String bootstrapServers, Path file, Map<String, String> fileProperties) {
        Map<String, String> properties = new HashMap<>(fileProperties);
        String servers = KafkaClientSettings.bootstrapServers(properties, "--bootstrap-servers", bootstrapServers,
                "--kafka-config " + file, DEFAULT_BOOTSTRAP_SERVERS);
        checkClientProperties(file, properties);
        return new KafkaConnection(servers.strip(), properties);
    }

    /**
     * Parses each property that a Kafka client (admin, producer, consumer, streams) defines with that client's own
     * definition, so that an unparsable or unknown value (linger.ms=soon, security.protocol=SASL_PLAIN) is one line
     * and exit 2 here, not a stack trace when the first client starts. Names no client defines are left alone:
     * config providers and plug-ins read their own.
     */
    static void checkClientProperties(Path file, Map<String, String> properties) {
        try {
            KafkaClientSettings.checkProperties(properties, List.of(AdminClientConfig.configDef(),
                    ProducerConfig.configDef(), ConsumerConfig.configDef(), StreamsConfig.configDef()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kafka-config " + file + ": " + e.getMessage());
        }
    }

    /** Client properties for an Admin, producer, consumer or streams app: the file's, then the bootstrap servers. */
    public Map<String, Object> clientConfig() {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    public Admin admin() {
        try {
            return Admin.create(clientConfig());
        } catch (RuntimeException e) {
            throw new SgdscopeException("cannot connect to Kafka at " + bootstrapServers + ": " + rootMessage(e), e);
        }
    }

    /**
     * Waits until a broker answers, trying {@code attempts} times with {@code perAttempt} each; then
     * gives up with a clear error. Every command that talks to an external cluster calls this first.
     */
    public void awaitReachable(int attempts, Duration perAttempt) {
        Map<String, Object> config = clientConfig();
        int timeoutMs = (int) perAttempt.toMillis();
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        config.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, Math.min(timeoutMs, 2_000));
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        Exception last = null;
        try (Admin admin = createAdmin(config)) {
            for (int attempt = 1; attempt <= attempts; attempt++) {
                try {
                    Collection<Node> nodes = admin.describeCluster().nodes().get(perAttempt.toMillis(), TimeUnit.MILLISECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AuthenticationException) {
                        // A broker answered and refused the login: asking again will not change its mind.
                        throw new SgdscopeException("Kafka at " + bootstrapServers + " refused the login"
                                + TopicAccess.principal(clientProperties).map(user -> " as " + user).orElse("") + ": "
                                + rootMessage(e), e);
                    }
                    last = e;
                } catch (TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SgdscopeException("interrupted while connecting to Kafka at " + bootstrapServers);
                }
            }
        }
        long seconds = attempts * perAttempt.toSeconds();
        throw new SgdscopeException("cannot reach Kafka at " + bootstrapServers + ": no broker answered in " + attempts
                + " attempts over " + seconds + " s" + (last == null ? "" : " (" + rootMessage(last) + ")"), last);
    }

    private Admin createAdmin(Map<String, Object> config) {
        try {
            return Admin.create(config);
        } catch (RuntimeException e) {
            throw new SgdscopeException("cannot connect to Kafka at " + bootstrapServers + ": " + rootMessage(e), e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof TimeoutException || root instanceof org.apache.kafka.common.errors.TimeoutException) {
            return "timed out";
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message.lines().findFirst().orElse(message);
    }
}
