package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.SecurityFiles;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ACLs of README.md's role table on a secured broker: each one is needed (without it the broker refuses the
 * operation it grants), a trainer missing one is told in one line which, and a wrong password is refused at once.
 * ({@link SecureDemoIT} shows that with exactly these ACLs each role does its whole job.)
 */
class SecureRolesIT {

    private static final List<String> APPLICATION_IDS = List.of("sgdscope-quantiles", "sgdscope-deviation");

    @RegisterExtension
    static final KafkaBrokerExtension kafka = KafkaBrokerExtension.withTopics(1, Topics.all(), Topics.Spec::name, Topics.Spec::config)
            .secured("admin", "trainer", "streams", "viewer");

    private static final AtomicInteger unique = new AtomicInteger();

    @TempDir
    static Path dir;

    @BeforeAll
    static void grantTheRoles() throws Exception {
        try (Admin admin = kafka.admin()) {
            // An internal topic of each app, as Kafka Streams would have made it.
            List<NewTopic> internal = APPLICATION_IDS.stream().map(id -> new NewTopic(id + "-store-changelog", 1, (short) 1)).toList();
            admin.createTopics(internal).all().get(30, TimeUnit.SECONDS);
            RoleAcls.create(admin, all());
        }
    }

    private static List<AclBinding> all() {
        List<AclBinding> acls = new ArrayList<>(RoleAcls.trainer("trainer"));
        acls.addAll(RoleAcls.streams("streams", APPLICATION_IDS));
        acls.addAll(RoleAcls.viewer("viewer"));
        return acls;
    }

    @Test
    void everyAclIsNeededForWhatItGrants() throws Exception {
        List<AclBinding> acls = all();
        for (AclBinding acl : acls) {
            assertTrue(allowed(acl), "allowed with every ACL: " + acl);
        }
        try (Admin admin = kafka.admin()) {
            for (AclBinding acl : acls) {
                admin.deleteAcls(List.of(acl.toFilter())).all().get(30, TimeUnit.SECONDS);
                try {
                    assertTrue(eventually(() -> !allowed(acl)), "refused without " + acl);
                } finally {
                    admin.createAcls(List.of(acl)).all().get(30, TimeUnit.SECONDS);
                    assertTrue(eventually(() -> allowed(acl)), "allowed again with " + acl);
                }
            }
        }
    }

    @Test
    void aTrainerMissingWriteOnATopicIsToldInOneLineWhich() throws Exception {
        Path config = dir.resolve("client-trainer.properties");
        Files.copy(files().clientPropertiesFile("trainer"), config, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        AclBinding write = RoleAcls.allow("trainer", ResourceType.TOPIC, Topics.ITERATIONS, PatternType.LITERAL, AclOperation.WRITE);
        try (Admin admin = kafka.admin()) {
            admin.deleteAcls(List.of(write.toFilter())).all().get(30, TimeUnit.SECONDS);
            try {
                assertTrue(eventually(() -> !allowed(write)));
                try (SgdscopeProcess train = SgdscopeProcess.start("train", "--bootstrap-servers", kafka.bootstrapServers(),
                        "--kafka-config", config.toString(), "--no-create-topics", "--runs", "2", "--iterations", "5",
                        "--metrics-port", "-1")) {
                    assertEquals(1, train.awaitExit(Duration.ofSeconds(60)));
                    assertEquals(List.of("sgdscope: error: not authorized to WRITE topic sgd.iterations as trainer "
                            + "(--verbose shows details)"), train.stderr());
                }
            } finally {
                admin.createAcls(List.of(write)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aWrongPasswordIsRefusedInOneLineAtOnce() throws Exception {
        Map<String, String> wrong = files().clientProperties("trainer", "not-" + files().password("trainer"));
        Path config = dir.resolve("wrong-trainer.properties");
        Files.writeString(config, wrong.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                .reduce("", String::concat));
        try (SgdscopeProcess train = SgdscopeProcess.start("train", "--bootstrap-servers", kafka.bootstrapServers(),
                "--kafka-config", config.toString(), "--no-create-topics", "--runs", "2", "--iterations", "5",
                "--metrics-port", "-1")) {
            assertEquals(1, train.awaitExit(Duration.ofSeconds(60)));
            assertEquals(1, train.stderr().size(), String.join("\n", train.stderr()));
            String line = train.stderr().get(0);
            assertTrue(line.startsWith("sgdscope: error: Kafka at " + kafka.bootstrapServers() + " refused the login as trainer: "
                    + "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"), line);
        }
    }

    @Test
    void aClientWithoutCredentialsIsRefused() {
        Map<String, Object> plain = new HashMap<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000, ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(plain, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            assertFalse(succeeds(() -> consumer.partitionsFor(Topics.QUANTILES, Duration.ofSeconds(5))), "no metadata without a login");
        }
    }

    // --- probes: each does exactly what one ACL grants, as its user ---------------------------------

    /** True if the broker lets the ACL's user do what the ACL grants; false if it refuses for lack of authorization. */
    private static boolean allowed(AclBinding acl) throws Exception {
        String user = acl.entry().principal().substring("User:".length());
        String name = acl.pattern().name();
        String topic = acl.pattern().patternType() == PatternType.PREFIXED ? name + "-store-changelog" : name;
        Map<String, Object> login = kafka.broker().clientConfig(user);
        try {
            switch (acl.pattern().resourceType()) {
                case TOPIC -> probeTopic(acl.entry().operation(), login, topic, name);
                case GROUP -> {
                    try (Admin admin = Admin.create(login)) {
                        admin.listConsumerGroupOffsets(name).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                    }
                }
                case TRANSACTIONAL_ID -> {
                    Map<String, Object> config = producerConfig(login);
                    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, name + "-probe-" + unique.incrementAndGet());
                    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
                        producer.initTransactions();
                    }
                }
                default -> throw new AssertionError("no probe for " + acl);
            }
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                return false;
            }
            throw e;
        } catch (AuthorizationException e) {
            return false;
        } catch (KafkaException e) {
            if (e.getCause() instanceof AuthorizationException) {
                return false;
            }
            throw e;
        }
    }

    private static void probeTopic(AclOperation operation, Map<String, Object> login, String topic, String prefix) throws Exception {
        switch (operation) {
            case WRITE -> {
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(login), new ByteArraySerializer(),
                        new ByteArraySerializer())) {
                    producer.send(new ProducerRecord<>(topic, "probe".getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[0])).get(30, TimeUnit.SECONDS);
                }
            }
            case READ -> {
                Map<String, Object> config = new HashMap<>(login);
                config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
                    TopicPartition partition = new TopicPartition(topic, 0);
                    consumer.assign(List.of(partition));
                    consumer.seekToBeginning(List.of(partition));
                    consumer.poll(Duration.ofMillis(500));
                    consumer.position(partition, Duration.ofSeconds(10));
                }
            }
            case CREATE -> {
                try (Admin admin = Admin.create(login)) {
                    admin.createTopics(List.of(new NewTopic(prefix + "-probe-" + unique.incrementAndGet(), 1, (short) 1)))
                            .all().get(30, TimeUnit.SECONDS);
                }
            }
            case DELETE -> {
                try (Admin admin = Admin.create(login)) {
                    admin.deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(0)))
                            .all().get(30, TimeUnit.SECONDS);
                }
            }
            case DESCRIBE_CONFIGS -> {
                try (Admin admin = Admin.create(login)) {
                    admin.describeConfigs(Set.of(new ConfigResource(ConfigResource.Type.TOPIC, topic))).all().get(30, TimeUnit.SECONDS);
                }
            }
            default -> throw new AssertionError("no probe for " + operation + " on a topic");
        }
    }

    private static Map<String, Object> producerConfig(Map<String, Object> login) {
        Map<String, Object> config = new HashMap<>(login);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return config;
    }

    private static SecurityFiles files() {
        return kafka.broker().securityFiles().orElseThrow();
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** ACL changes reach the broker's authorizer through the metadata log: give them a few seconds. */
    private static boolean eventually(Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            if (check.holds()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    private static boolean succeeds(Runnable action) {
        try {
            action.run();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
