package io.sgdscope.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * Three brokers and one controller of their own (KRaft), in this JVM, on loopback: Kafka's test kit, with
 * brokers that can be stopped and started one at a time. The controller is a separate node because a
 * quorum of combined nodes would lose its majority with the broker. Logs go under {@code target/}.
 *
 * <p>Every topic, the internal ones included, gets {@code replicationFactor} replicas and needs
 * {@code minInsyncReplicas} of them in sync to take a write with acks=all.
 */
final class ThreeBrokerCluster implements AutoCloseable {

    private static final long TIMEOUT_SECONDS = 30;

    private final KafkaClusterTestKit cluster;
    private final Admin admin;

    private ThreeBrokerCluster(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    }

    static ThreeBrokerCluster start(Path baseDirectory, int replicationFactor, int minInsyncReplicas) throws Exception {
        Files.createDirectories(baseDirectory);
        TestKitNodes nodes = new TestKitNodes.Builder()
                .setCombined(false)
                .setNumBrokerNodes(3)
                .setNumControllerNodes(1)
                .setBootstrapMetadataVersion(MetadataVersion.LATEST_PRODUCTION)
                .setBaseDirectory(baseDirectory)
                .build();
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
        Map<String, String> settings = Map.of(
                "default.replication.factor", String.valueOf(replicationFactor),
                "min.insync.replicas", String.valueOf(minInsyncReplicas),
                "offsets.topic.replication.factor", String.valueOf(replicationFactor),
                "transaction.state.log.replication.factor", String.valueOf(replicationFactor),
                "transaction.state.log.min.isr", String.valueOf(minInsyncReplicas),
                // Fewer internal partitions than the 50 of production: quicker to create and to move.
                "offsets.topic.num.partitions", "6",
                "transaction.state.log.num.partitions", "6",
                "group.initial.rebalance.delay.ms", "0");
        settings.forEach(builder::setConfigProp);
        KafkaClusterTestKit cluster = builder.build();
        try {
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new ThreeBrokerCluster(cluster);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    Admin admin() {
        return admin;
    }

    /** The broker that leads a partition now. */
    int leaderOf(TopicPartition partition) throws Exception {
        Node leader = describe(partition.topic()).partitions().get(partition.partition()).leader();
        if (leader == null) {
            throw new IllegalStateException(partition + " has no leader");
        }
        return leader.id();
    }

    /** The brokers in the ISR of a partition now. */
    Set<Integer> inSyncReplicasOf(TopicPartition partition) throws Exception {
        return describe(partition.topic()).partitions().get(partition.partition()).isr().stream()
                .map(Node::id).collect(Collectors.toSet());
    }

    /** The end offset of a partition as its current leader reports it. */
    long endOffset(TopicPartition partition) throws Exception {
        return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition)
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).offset();
    }

    /** Every topic (internal ones too) with the number of replicas of each of its partitions. */
    Map<String, List<Integer>> replicasOfEveryTopic() throws Exception {
        Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return admin.describeTopics(names).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).values().stream()
                .collect(Collectors.toMap(TopicDescription::name,
                        topic -> topic.partitions().stream().map(p -> p.replicas().size()).toList()));
    }

    /** Stops one broker (a controlled shutdown: it hands its leaderships over first, then closes its logs). */
    void stopBroker(int id) {
        broker(id).shutdown();
    }

    /** Starts a stopped broker again, with the logs it had. */
    void startBroker(int id) {
        broker(id).startup();
    }

    /** Waits until every partition of the topic has all its replicas in sync. */
    void awaitFullIsr(String topic, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<TopicPartitionInfo> partitions = describe(topic).partitions();
            if (partitions.stream().allMatch(p -> p.isr().size() == p.replicas().size())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("replicas of " + topic + " not all in sync after " + timeout + ": " + partitions);
            }
            Thread.sleep(200);
        }
    }

    private TopicDescription describe(String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(topic);
    }

    private BrokerServer broker(int id) {
        BrokerServer broker = cluster.brokers().get(id);
        if (broker == null) {
            throw new IllegalArgumentException("no broker " + id + " in " + cluster.brokers().keySet());
        }
        return broker;
    }

    @Override
    public void close() throws Exception {
        try {
            admin.close(Duration.ofSeconds(5));
        } finally {
            cluster.close();
        }
    }
}
