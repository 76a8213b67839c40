package io.sgdscope.cli;

import io.sgdscope.schemas.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least ACLs each role of the pipeline needs on a secured cluster (README.md, "Security: roles and ACLs",
 * lists them with the kafka-acls.sh commands); {@code demo --secure} sets them. Only operations that no other
 * granted one implies: Kafka lets READ and WRITE imply DESCRIBE, and (since 3.0) WRITE on any topic imply the
 * cluster's IDEMPOTENT_WRITE for an idempotent producer.
 */
final class RoleAcls {

    /** The topics the trainer writes. */
    static final List<String> TRAINER_TOPICS = List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA);
    /** The streams apps' input topics. */
    static final List<String> STREAMS_INPUTS = List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA);
    /** The streams apps' output topics: quantiles, alerts and dead letters. */
    static final List<String> STREAMS_OUTPUTS = List.of(Topics.QUANTILES, Topics.ALERTS, Topics.DEAD_LETTERS);
    /** What a read-only viewer (dashboards, kcat, export) reads. */
    static final List<String> VIEWER_TOPICS = List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA, Topics.QUANTILES,
            Topics.ALERTS);
    /** On its internal topics (prefix = application id) Kafka Streams creates, reads, writes, purges (DELETE) them. */
    static final List<AclOperation> INTERNAL_TOPIC_OPERATIONS = List.of(AclOperation.CREATE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.DESCRIBE_CONFIGS);

    private RoleAcls() {}

    /** Writes the telemetry; idempotent producer (IDEMPOTENT_WRITE implied by WRITE). */
    static List<AclBinding> trainer(String user) {
        List<AclBinding> acls = new ArrayList<>();
        TRAINER_TOPICS.forEach(topic -> acls.add(allow(user, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE)));
        return acls;
    }

    /**
     * Both streams apps under exactly_once_v2: read the inputs, write the outputs; per application id its
     * consumer group, its transactional ids (EOS v2: {@code <application id>-<process id>-<thread>}) and its
     * internal topics (changelogs, repartition topics), all named after the application id.
     */
    static List<AclBinding> streams(String user, List<String> applicationIds) {
        List<AclBinding> acls = new ArrayList<>();
        STREAMS_INPUTS.forEach(topic -> acls.add(allow(user, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ)));
        STREAMS_OUTPUTS.forEach(topic -> acls.add(allow(user, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE)));
        for (String id : applicationIds) {
            acls.add(allow(user, ResourceType.GROUP, id, PatternType.LITERAL, AclOperation.READ));
            acls.add(allow(user, ResourceType.TRANSACTIONAL_ID, id, PatternType.PREFIXED, AclOperation.WRITE));
            INTERNAL_TOPIC_OPERATIONS.forEach(operation ->
                    acls.add(allow(user, ResourceType.TOPIC, id, PatternType.PREFIXED, operation)));
        }
        return acls;
    }

    /** Reads the telemetry and the apps' outputs without a consumer group (assigned partitions, no commits). */
    static List<AclBinding> viewer(String user) {
        List<AclBinding> acls = new ArrayList<>();
        VIEWER_TOPICS.forEach(topic -> acls.add(allow(user, ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.READ)));
        return acls;
    }

    static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW));
    }

    /**
     * Creates the ACLs (an existing one is left as it is) and waits until the broker answers with them: they reach
     * its authorizer through the metadata log, a moment after createAcls returns.
     */
    static void create(Admin admin, List<AclBinding> acls) {
        try {
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS).containsAll(acls)) {
                if (System.nanoTime() > deadline) {
                    throw new SgdscopeException("the ACLs created were not in force after 30 s");
                }
                Thread.sleep(50);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new SgdscopeException("cannot create the ACLs: " + KafkaConnection.rootMessage(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SgdscopeException("interrupted while creating the ACLs");
        }
    }
}
