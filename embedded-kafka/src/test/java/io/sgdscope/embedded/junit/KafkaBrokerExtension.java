package io.sgdscope.embedded.junit;

import io.sgdscope.embedded.BrokerSecurity;
import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * One embedded Kafka broker per test class, with the topics the class asks for, and nothing left behind.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(new NewTopic("in", 3, (short) 1));
 * }</pre>
 *
 * <p>Before the class's first test it starts an {@link EmbeddedKafkaBroker} on a free port in a fresh folder
 * under {@code target/kafka-it} (the system temp dir outside a Maven module), creates the topics and waits until
 * the broker's metadata lists each of them with all its partitions led. After the class's last test it stops the
 * broker and deletes the folder. The field must be static: JUnit calls class-level callbacks only for static
 * fields. {@code @Nested} classes share the enclosing class's broker.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {

    /** Bound on creating the topics and on waiting for them to be visible; not a timing assertion. */
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final List<NewTopic> topics;
    /** Null for a PLAINTEXT broker; else the super user first, then the other users. */
    private final List<String> users;
    private EmbeddedKafkaBroker broker;
    private Path dataDir;
    /** The unique id of the class that started the broker; its afterAll stops it. */
    private String owner;

    private KafkaBrokerExtension(List<NewTopic> topics) {
        this(topics, null);
    }

    private KafkaBrokerExtension(List<NewTopic> topics, List<String> users) {
        this.topics = List.copyOf(topics);
        this.users = users == null ? null : List.copyOf(users);
    }

    /**
     * The same broker secured ({@link BrokerSecurity}): SASL_SSL with SCRAM-SHA-512 users, ACLs enforced, the
     * security files in the data folder's {@code security/}. The topics are created as {@code superUser}, and
     * {@link #admin()} logs in as it; no other ACL is set.
     */
    public KafkaBrokerExtension secured(String superUser, String... otherUsers) {
        List<String> all = new ArrayList<>(List.of(superUser));
        all.addAll(List.of(otherUsers));
        return new KafkaBrokerExtension(topics, all);
    }

    /** The running broker, e.g. for {@link EmbeddedKafkaBroker#clientConfig} and its security files. */
    public EmbeddedKafkaBroker broker() {
        return running();
    }

    /** A broker with these topics; give them replication factor 1, the only one a single broker can serve. */
    public static KafkaBrokerExtension withTopics(NewTopic... topics) {
        return new KafkaBrokerExtension(List.of(topics));
    }

    /** A broker with these topics. */
    public static KafkaBrokerExtension withTopics(Collection<NewTopic> topics) {
        return new KafkaBrokerExtension(List.copyOf(topics));
    }

    /**
     * A broker with one topic per spec, each with {@code partitions} partitions and its spec's configuration,
     * e.g. {@code withTopics(3, Topics.all(), Topics.Spec::name, Topics.Spec::config)}.
     */
    public static <S> KafkaBrokerExtension withTopics(int partitions, Collection<S> specs,
                                                      Function<S, String> name, Function<S, Map<String, String>> config) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, was " + partitions);
        }
        return new KafkaBrokerExtension(specs.stream()
                .map(spec -> new NewTopic(name.apply(spec), partitions, (short) 1).configs(config.apply(spec)))
                .toList());
    }

    /** A broker without topics, for tests whose code under test creates them. */
    public static KafkaBrokerExtension withoutTopics() {
        return new KafkaBrokerExtension(List.of());
    }

    /** {@code "127.0.0.1:PORT"}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return running().bootstrapServers();
    }

    /** The broker's data folder, deleted after the class (of a secured broker: the folder of its kafka/ and security/). */
    public Path dataDir() {
        running();
        return dataDir;
    }

    /** A new Admin client on the broker (on a secured one as the super user); the caller closes it. */
    public Admin admin() {
        return users == null ? Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))
                : Admin.create(running().clientConfig(users.get(0)));
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (broker != null) {
            return; // a @Nested class: its enclosing class started the broker
        }
        owner = context.getUniqueId();
        try {
            dataDir = newDataDir(context.getRequiredTestClass());
            BrokerSettings settings = BrokerSettings.of(users == null ? dataDir : dataDir.resolve("kafka"));
            if (users != null) {
                settings = settings.withSecurity(new BrokerSecurity(dataDir.resolve("security"), users.get(0),
                        users.subList(1, users.size())));
            }
            broker = EmbeddedKafkaBroker.start(settings);
            if (!topics.isEmpty()) {
                try (Admin admin = admin()) {
                    createTopics(admin);
                    awaitVisible(admin);
                }
            }
        } catch (Exception e) {
            // JUnit still calls afterAll, but stopping here keeps a failed start self-contained.
            try {
                stop();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getUniqueId().equals(owner)) {
            stop();
        }
    }

    private EmbeddedKafkaBroker running() {
        if (broker == null) {
            throw new IllegalStateException("no broker is running: register KafkaBrokerExtension in a static "
                    + "@RegisterExtension field and use it from the class's tests");
        }
        return broker;
    }

    private void createTopics(Admin admin) throws InterruptedException {
        try {
            admin.createTopics(topics).all().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create the topics " + names() + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the topics " + names() + " were not created within " + WAIT.toSeconds() + " s", e);
        }
    }

    /**
     * A topic just created can be unknown to the broker's metadata for a moment, or have partitions without a
     * leader yet: ask again until every topic is listed with all its partitions led.
     */
    private void awaitVisible(Admin admin) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> notYet = notYetVisible(admin);
        while (!notYet.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topics not visible with all their partitions after "
                        + WAIT.toSeconds() + " s: " + String.join(", ", notYet));
            }
            Thread.sleep(50);
            notYet = notYetVisible(admin);
        }
    }

    /** What is still missing, one entry per topic: e.g. "in (unknown)" or "in (2 of 3 partitions led)". */
    private List<String> notYetVisible(Admin admin) throws InterruptedException {
        Map<String, KafkaFuture<TopicDescription>> described = admin
                .describeTopics(names(), new DescribeTopicsOptions().timeoutMs(5_000)).topicNameValues();
        List<String> notYet = new ArrayList<>();
        for (NewTopic topic : topics) {
            try {
                TopicDescription description = described.get(topic.name()).get();
                long led = description.partitions().stream().map(TopicPartitionInfo::leader)
                        .filter(leader -> leader != null && !leader.isEmpty()).count();
                // -1: the caller left the count to the broker's default, so any led partition will do
                int expected = topic.numPartitions() > 0 ? topic.numPartitions() : Math.max(1, description.partitions().size());
                if (led < expected || description.partitions().size() != expected) {
                    notYet.add(topic.name() + " (" + led + " of " + expected + " partitions led)");
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException)) { // e.g. UnknownTopicOrPartitionException
                    throw new IllegalStateException("cannot describe the topic " + topic.name() + ": "
                            + e.getCause().getMessage(), e.getCause());
                }
                notYet.add(topic.name() + " (" + e.getCause().getClass().getSimpleName() + ")");
            }
        }
        return notYet;
    }

    private List<String> names() {
        return topics.stream().map(NewTopic::name).toList();
    }

    /** Stops the broker (if it runs) and deletes its folder; the broker is stopped even if deleting fails. */
    private void stop() {
        EmbeddedKafkaBroker running = broker;
        Path dir = dataDir;
        broker = null;
        dataDir = null;
        owner = null;
        try {
            if (running != null) {
                running.close();
            }
        } finally {
            if (dir != null) {
                deleteRecursively(dir);
            }
        }
    }

    /**
     * Under the module's {@code target/} when there is one, so that a JVM killed before afterAll leaves its
     * folder where {@code mvn clean} removes it.
     */
    private static Path newDataDir(Class<?> testClass) throws IOException {
        Path target = Path.of("target");
        Path parent = Files.isDirectory(target) ? target.resolve("kafka-it") : Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, testClass.getSimpleName() + "-").toAbsolutePath();
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the broker's data folder " + dir + ": " + e.getMessage(), e);
        }
    }
}
