package io.sgdscope.embedded;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The secured broker: SASL_SSL with SCRAM users made at format time, its files, and ACLs enforced. */
class SecuredBrokerTest {

    @RegisterExtension
    static final KafkaBrokerExtension kafka = KafkaBrokerExtension.withTopics(new NewTopic("open", 1, (short) 1),
            new NewTopic("closed", 1, (short) 1)).secured("admin", "alice");

    @Test
    void superUserAdministersAndAUserWritesOnlyWhereAnAclAllowsIt() throws Exception {
        try (Admin admin = kafka.admin()) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "open", PatternType.LITERAL),
                    new AccessControlEntry("User:alice", "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer(kafka.broker().clientConfig("alice"))) {
            producer.send(new ProducerRecord<>("open", "k", "v")).get(30, TimeUnit.SECONDS);
            ExecutionException denied = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("closed", "k", "v")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }
    }

    @Test
    void aWrongPasswordIsRefused() {
        SecurityFiles files = kafka.broker().securityFiles().orElseThrow();
        Map<String, Object> config = new HashMap<>(files.clientProperties("alice", "not-" + files.password("alice")));
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(config)) {
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, refused.getCause());
        }
    }

    @Test
    void aClientWithoutCredentialsGetsNoAnswer() {
        Map<String, Object> config = new HashMap<>(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000));
        try (Admin admin = Admin.create(config)) {
            assertThrows(Exception.class, () -> admin.listTopics().names().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void clientFilesHoldEachUsersLoginAndTheCa() throws IOException {
        SecurityFiles files = kafka.broker().securityFiles().orElseThrow();
        Properties alice = new Properties();
        try (var reader = Files.newBufferedReader(files.clientPropertiesFile("alice"))) {
            alice.load(reader);
        }
        assertEquals("SASL_SSL", alice.getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-512", alice.getProperty("sasl.mechanism"));
        assertTrue(alice.getProperty("sasl.jaas.config").contains("username=\"alice\" password=\"" + files.password("alice") + "\""));
        assertEquals(files.truststore().toString(), alice.getProperty("ssl.truststore.location"));
        assertTrue(Files.readString(files.caPem()).startsWith("-----BEGIN CERTIFICATE-----\n"));
        assertNotEquals(files.password("admin"), files.password("alice"));
    }

    private static KafkaProducer<String, String> producer(Map<String, Object> config) {
        Map<String, Object> producerConfig = new HashMap<>(config);
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        producerConfig.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer());
    }
}
