package io.sgdscope.embedded.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * The extension seen from a test class that uses it, run through the JUnit engine: the nested classes below
 * are that test class (Surefire skips nested classes; only the engine runs them here).
 */
class KafkaBrokerExtensionTest {

    @Test
    void aClassUsingTheExtensionSeesItsTopicsWithThePartitionsAskedForAndTheFolderIsGoneAfterTheClass() throws Exception {
        EngineExecutionResults results = run(TwoTopics.class);

        results.testEvents().assertStatistics(stats -> stats.started(3).succeeded(3).failed(0));
        Path dataDir = TwoTopics.seenDataDir;
        assertNotNull(dataDir, "the class's tests ran");
        assertTrue(dataDir.startsWith(Path.of("target", "kafka-it").toAbsolutePath()), "under target/: " + dataDir);
        assertEquals(dataDir, TwoTopics.nestedSawDataDir, "a @Nested class shares the broker, it gets no second one");
        assertFalse(Files.exists(dataDir), "the data folder is deleted after the class: " + dataDir);
        assertEquals(TwoTopics.seenPort, bindAndRelease(TwoTopics.seenPort), "the broker is stopped: its port is free");
        IllegalStateException e = assertThrows(IllegalStateException.class, TwoTopics.broker::bootstrapServers);
        assertTrue(e.getMessage().startsWith("no broker is running"), e.getMessage());
    }

    @Test
    void specsOfTheCallersOwnTypeBecomeTopicsWithTheirConfigsAndTheGivenPartitions() {
        EngineExecutionResults results = run(FromSpecs.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
        assertFalse(Files.exists(FromSpecs.seenDataDir), "deleted: " + FromSpecs.seenDataDir);
    }

    @Test
    void aTopicTheBrokerRefusesFailsTheClassWithOneLineNamingItAndLeavesNoFolder() throws Exception {
        Path parent = Path.of("target", "kafka-it");
        List<Path> before = folders(parent, "BadTopic-");

        EngineExecutionResults results = run(BadTopic.class);

        results.testEvents().assertStatistics(stats -> stats.started(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(1)); // the class, not the engine
        Event failed = results.containerEvents().failed().list().get(0);
        assertEquals(ClassSource.from(BadTopic.class), failed.getTestDescriptor().getSource().orElseThrow());
        Throwable cause = failed.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
        assertTrue(cause.getMessage().startsWith("cannot create the topics [fine, bad]: "), cause.getMessage());
        assertFalse(cause.getMessage().contains("\n"), cause.getMessage());
        assertEquals(before, folders(parent, "BadTopic-"), "no data folder left behind");
    }

    @Test
    void factoriesRejectAPartitionCountBelowOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KafkaBrokerExtension.withTopics(0, List.of("a"), name -> name, name -> Map.of()));
        assertEquals("partitions must be at least 1, was 0", e.getMessage());
    }

    private static EngineExecutionResults run(Class<?> testClass) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
    }

    private static List<Path> folders(Path parent, String prefix) throws Exception {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (var paths = Files.list(parent)) {
            return paths.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        }
    }

    private static int bindAndRelease(int port) throws Exception {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    }

    private static Config config(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
    }

    // --- the test classes run through the engine -------------------------------------------------------

    static class TwoTopics {

        @RegisterExtension
        static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(
                new NewTopic("three", 3, (short) 1).configs(Map.of("cleanup.policy", "compact")),
                new NewTopic("one", 1, (short) 1));

        static Path seenDataDir;
        static int seenPort;
        static Path nestedSawDataDir;

        @Test
        void seesItsTopicsWithThePartitionsAndConfigsAskedFor() throws Exception {
            seenDataDir = broker.dataDir();
            seenPort = Integer.parseInt(broker.bootstrapServers().substring("127.0.0.1:".length()));
            assertTrue(Files.isDirectory(seenDataDir));
            try (Admin admin = broker.admin()) {
                assertEquals(3, describe(admin, "three").partitions().size());
                assertEquals(1, describe(admin, "one").partitions().size());
                assertEquals("compact", config(admin, "three").get("cleanup.policy").value());
                assertEquals("delete", config(admin, "one").get("cleanup.policy").value());
            }
        }

        @Test
        void everyPartitionTakesARecordRightAway() throws Exception {
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                    Map.of("bootstrap.servers", broker.bootstrapServers(), "max.block.ms", 5_000),
                    new StringSerializer(), new StringSerializer())) {
                for (int partition = 0; partition < 3; partition++) {
                    RecordMetadata written = producer.send(new ProducerRecord<>("three", partition, "k", "v"))
                            .get(10, TimeUnit.SECONDS);
                    assertEquals(0, written.offset());
                }
            }
        }

        @Nested
        class InANestedClass {

            @Test
            void theEnclosingClassesBrokerAndTopicsAreThere() throws Exception {
                nestedSawDataDir = broker.dataDir();
                try (Admin admin = broker.admin()) {
                    assertEquals(3, describe(admin, "three").partitions().size());
                }
            }
        }
    }

    /** Stands for a caller's own topic list, e.g. sgdscope's Topics.Spec. */
    record Spec(String name, Map<String, String> config) {}

    static class FromSpecs {

        @RegisterExtension
        static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(2,
                List.of(new Spec("kept", Map.of("retention.ms", "-1")), new Spec("compacted", Map.of("cleanup.policy", "compact"))),
                Spec::name, Spec::config);

        static Path seenDataDir;

        @Test
        void everySpecIsATopicWithItsConfigAndTheGivenPartitions() throws Exception {
            seenDataDir = broker.dataDir();
            try (Admin admin = broker.admin()) {
                assertEquals(2, describe(admin, "kept").partitions().size());
                assertEquals(2, describe(admin, "compacted").partitions().size());
                assertEquals("-1", config(admin, "kept").get("retention.ms").value());
                assertEquals("compact", config(admin, "compacted").get("cleanup.policy").value());
            }
        }
    }

    static class BadTopic {

        @RegisterExtension
        static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(
                new NewTopic("fine", 1, (short) 1), new NewTopic("bad", 1, (short) 1).configs(Map.of("cleanup.policy", "nonsense")));

        @Test
        void neverRuns() {
            throw new AssertionError("the class should have failed before its tests");
        }
    }
}
