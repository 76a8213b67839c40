package io.sgdscope.embedded;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKafkaBrokerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path sharedDir;

    /** One broker for the messaging tests; restart and failure tests start their own. */
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = timedStart(BrokerSettings.of(sharedDir.resolve("kafka")));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            long start = System.nanoTime();
            broker.close();
            System.out.printf("embedded broker stopped in %d ms%n", millisSince(start));
        }
    }

    @Test
    void aRecordProducedIdempotentlyWithAcksAllIsConsumedBackByAConsumerGroup() throws Exception {
        createTopic(broker, "plain", 1);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(broker, Map.of(
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.ACKS_CONFIG, "all")))) {
            producer.send(new ProducerRecord<>("plain", "run-1", "hello")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }

        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(broker, Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "plain-readers")))) {
            consumer.subscribe(List.of("plain"));
            List<ConsumerRecord<String, String>> records = pollUntil(consumer, r -> r.size() >= 1);
            assertEquals(1, records.size());
            assertEquals("run-1", records.get(0).key());
            assertEquals("hello", records.get(0).value());
            consumer.commitSync();
        }

        // The committed offset lives in __consumer_offsets: this only works with its RF set to 1.
        try (Admin admin = admin(broker)) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("plain-readers")
                    .partitionsToOffsetAndMetadata().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(1L, committed.get(new TopicPartition("plain", 0)).offset());
        }
    }

    @Test
    void aReadCommittedConsumerSeesCommittedTransactionsAndNotAbortedOnes() throws Exception {
        createTopic(broker, "tx", 1);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(broker, Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-writer")))) {
            producer.initTransactions();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx", "committed-1"));
            producer.send(new ProducerRecord<>("tx", "committed-2"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx", "aborted"));
            producer.flush(); // the aborted record really reaches the log
            producer.abortTransaction();

            // A last committed record: once it is read, everything before it has been decided.
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx", "committed-3"));
            producer.commitTransaction();
        }

        List<String> committedView = readAll("tx", "read_committed", "committed-3");
        assertEquals(List.of("committed-1", "committed-2", "committed-3"), committedView);

        // Sanity check that the aborted record was written and is only hidden by the isolation level.
        List<String> uncommittedView = readAll("tx", "read_uncommitted", "committed-3");
        assertEquals(List.of("committed-1", "committed-2", "aborted", "committed-3"), uncommittedView);
    }

    @Test
    void closingAndStartingAgainOnTheSameDataDirAndPortKeepsTheTopicAndItsRecords(@TempDir Path dir) throws Exception {
        Path dataDir = dir.resolve("kafka");
        int port;
        String clusterId;
        try (EmbeddedKafkaBroker first = timedStart(BrokerSettings.of(dataDir))) {
            port = first.port();
            clusterId = clusterId(first);
            createTopic(first, "kept", 2);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(first, Map.of()))) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("kept", "k" + i, "v" + i));
                }
                producer.flush();
            }
        }
        assertTrue(Files.exists(dataDir.resolve("meta.properties")), "close() keeps the data dir");

        try (EmbeddedKafkaBroker second = timedStart(BrokerSettings.of(dataDir).withPort(port))) {
            assertEquals(port, second.port());
            assertEquals("127.0.0.1:" + port, second.bootstrapServers());
            assertEquals(clusterId, clusterId(second), "the cluster id of the first start is reused");
            try (Admin admin = admin(second)) {
                assertTrue(admin.listTopics().names().get(WAIT.toSeconds(), TimeUnit.SECONDS).contains("kept"));
            }
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(second, Map.of(
                    ConsumerConfig.GROUP_ID_CONFIG, "after-restart")))) {
                consumer.subscribe(List.of("kept"));
                List<ConsumerRecord<String, String>> records = pollUntil(consumer, r -> r.size() >= 10);
                assertEquals(10, records.size());
                assertEquals(Set.of("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"),
                        Set.copyOf(records.stream().map(ConsumerRecord::value).toList()));
            }
        }
    }

    @Test
    void aFixedPortAlreadyInUseGivesAnExceptionNamingThePort(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                    () -> EmbeddedKafkaBroker.start(new BrokerSettings(dir.resolve("kafka"), port, Map.of())));
            assertEquals("cannot start the embedded Kafka broker: port " + port + " on 127.0.0.1 is in use",
                    e.getMessage());
        }
    }

    @Test
    void aPortTakenOnlyWhenKafkaBindsGivesAnExceptionNamingItAndLeavesNothingRunning(@TempDir Path dir)
            throws Exception {
        int controllerPort = bindAndRelease(0);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            // Overridden listeners bypass our port check, so Kafka itself fails to bind, late in
            // startup, after the controller part is up (as in a race for a port picked as free).
            BrokerSettings settings = new BrokerSettings(dir.resolve("kafka"), 0, Map.of(
                    "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "controller.quorum.voters", "1@127.0.0.1:" + controllerPort));
            EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                    () -> EmbeddedKafkaBroker.start(settings));
            assertEquals("cannot start the embedded Kafka broker: Socket server failed to bind to 127.0.0.1:"
                    + port + ": Address already in use.", e.getMessage());
        }
        // The half-started server was stopped: its controller port and data dir are free again.
        assertEquals(controllerPort, bindAndRelease(controllerPort));
        try (EmbeddedKafkaBroker again = timedStart(BrokerSettings.of(dir.resolve("kafka")))) {
            assertTrue(again.port() > 0);
        }
    }

    @Test
    void aSecondBrokerOnADataDirInUseIsRefusedAndTheFirstKeepsWorking() throws Exception {
        EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                () -> EmbeddedKafkaBroker.start(BrokerSettings.of(broker.dataDir())));
        assertEquals("cannot start the embedded Kafka broker: the data dir " + broker.dataDir()
                + " is in use by another broker", e.getMessage());

        createTopic(broker, "still-alive", 1);
        try (Admin admin = admin(broker)) {
            assertTrue(admin.listTopics().names().get(WAIT.toSeconds(), TimeUnit.SECONDS).contains("still-alive"));
        }
    }

    @Test
    void aDataDirThatCannotBeCreatedGivesAnExceptionNamingTheDir(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        Path dataDir = file.resolve("kafka");
        EmbeddedKafkaException e = assertThrows(EmbeddedKafkaException.class,
                () -> EmbeddedKafkaBroker.start(BrokerSettings.of(dataDir)));
        assertTrue(e.getMessage().startsWith("cannot start the embedded Kafka broker: cannot create the data dir "
                + dataDir), e.getMessage());
    }

    @Test
    void closingTwiceIsHarmless(@TempDir Path dir) {
        EmbeddedKafkaBroker own = timedStart(BrokerSettings.of(dir.resolve("kafka")));
        own.close();
        own.close();
        // The port is free again: a socket can bind it.
        assertEquals(own.port(), bindAndRelease(own.port()));
    }

    @Test
    void settingsRejectANegativeOrTooLargePortAndAMissingDataDir() {
        assertThrows(IllegalArgumentException.class, () -> new BrokerSettings(Path.of("x"), -1, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new BrokerSettings(Path.of("x"), 65_536, Map.of()));
        assertThrows(NullPointerException.class, () -> new BrokerSettings(null, 0, Map.of()));
        assertEquals(Map.of(), new BrokerSettings(Path.of("x"), 0, null).overrides());
        assertEquals(new BrokerSettings(Path.of("x"), 0, Map.of()), BrokerSettings.of(Path.of("x")));
    }

    // --- helpers -------------------------------------------------------------------------------

    private static EmbeddedKafkaBroker timedStart(BrokerSettings settings) {
        long start = System.nanoTime();
        EmbeddedKafkaBroker started = EmbeddedKafkaBroker.start(settings);
        System.out.printf("embedded broker started in %d ms on %s%n", millisSince(start), started.bootstrapServers());
        return started;
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Binds the port on 127.0.0.1 (0: any free one), releases it and returns it. */
    private static int bindAndRelease(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (Exception e) {
            throw new AssertionError("port " + port + " is still taken", e);
        }
    }

    private static Admin admin(EmbeddedKafkaBroker target) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers()));
    }

    private static void createTopic(EmbeddedKafkaBroker target, String topic, int partitions) throws Exception {
        try (Admin admin = admin(target)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                    .all().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static String clusterId(EmbeddedKafkaBroker target) throws Exception {
        try (Admin admin = admin(target)) {
            return admin.describeCluster().clusterId().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static Map<String, Object> producerConfig(EmbeddedKafkaBroker target, Map<String, Object> extra) {
        Map<String, Object> config = new HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
        config.putAll(extra);
        return config;
    }

    private static Map<String, Object> consumerConfig(EmbeddedKafkaBroker target, Map<String, Object> extra) {
        Map<String, Object> config = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        config.putAll(extra);
        return config;
    }

    /** Values of the topic's single partition, read without a group until {@code lastValue} shows up. */
    private static List<String> readAll(String topic, String isolationLevel, String lastValue) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(broker, Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel)))) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            return pollUntil(consumer, r -> !r.isEmpty() && r.get(r.size() - 1).value().equals(lastValue))
                    .stream().map(ConsumerRecord::value).toList();
        }
    }

    /** Polls until the records read so far satisfy {@code done}; fails after WAIT. */
    private static List<ConsumerRecord<String, String>> pollUntil(
            KafkaConsumer<String, String> consumer, Predicate<List<ConsumerRecord<String, String>>> done) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.test(records)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s; read so far: " + records);
            }
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }
}
