package io.sgdscope.cli;

import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates the pipeline's topics ({@link Topics#all()}) that do not exist yet; existing topics are left as
 * they are. Returns once every topic is visible with its partitions, so that what runs next (the streams
 * apps' check, the trainer's producer) does not find a topic just created still unknown.
 */
final class TopicSetup {

    private TopicSetup() {}

    /** @return the names of the topics created */
    static List<String> ensureTopics(Admin admin, int partitions, short replicationFactor) {
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Topics.Spec spec : Topics.all()) {
                if (!existing.contains(spec.name())) {
                    missing.add(new NewTopic(spec.name(), partitions, replicationFactor).configs(spec.config()));
                }
            }
            List<String> created = new ArrayList<>();
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                    created.add(entry.getKey());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicAuthorizationException) {
                        throw new SgdscopeException("not authorized to CREATE topic " + entry.getKey()
                                + " (create the topics as an administrator and pass --no-create-topics)", e.getCause());
                    }
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e; // another process may have created it meanwhile: that is fine
                    }
                }
            }
            awaitVisible(admin);
            return created;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new SgdscopeException("cannot create the topics: " + KafkaConnection.rootMessage(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SgdscopeException("interrupted while creating the topics");
        }
    }

    private static void awaitVisible(Admin admin) throws InterruptedException, java.util.concurrent.TimeoutException,
            ExecutionException {
        List<String> names = Topics.all().stream().map(Topics.Spec::name).toList();
        try {
            TopicVisibility.await(admin, names, TopicVisibility.WAIT, Duration.ofSeconds(30));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new SgdscopeException("cannot create the topics: " + e.getCause().getMessage()
                        + " (created or existing, but the broker does not show them)", e);
            }
            throw e;
        }
    }
}
