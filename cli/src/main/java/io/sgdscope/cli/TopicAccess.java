package io.sgdscope.cli;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Checks, before any work starts, that the client's principal may do what it is about to do with each topic.
 * Without this a producer denied WRITE would have every record fail in the background (counted, but the training
 * goes on), and one denied DESCRIBE would wait 30 s for topic metadata. Asks the broker for the principal's
 * authorized operations on each topic (Metadata with include_topic_authorized_operations); a broker without an
 * authorizer answers "all", so on an open cluster this never fails.
 */
final class TopicAccess {

    private static final Pattern USERNAME = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

    private TopicAccess() {}

    /**
     * @param operation the operation needed on every topic (e.g. WRITE)
     * @throws SgdscopeException one line naming the first permission missing, e.g.
     *                           "not authorized to WRITE topic sgd.iterations as trainer"
     */
    static void require(KafkaConnection connection, AclOperation operation, List<String> topics) {
        String as = principal(connection.clientProperties()).map(user -> " as " + user).orElse("");
        try (Admin admin = connection.admin()) {
            Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(topics,
                    new DescribeTopicsOptions().includeAuthorizedOperations(true).timeoutMs(15_000)).topicNameValues();
            for (String topic : topics) {
                TopicDescription description;
                try {
                    description = described.get(topic).get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AuthorizationException) {
                        // Not even DESCRIBE, which READ and WRITE imply: the operation needed is what is missing.
                        throw new SgdscopeException("not authorized to " + operation + " topic " + topic + as, e.getCause());
                    }
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        continue; // said later, by whoever waits for the topic
                    }
                    throw new SgdscopeException("cannot describe topic " + topic + ": " + KafkaConnection.rootMessage(e), e);
                }
                Set<AclOperation> allowed = description.authorizedOperations();
                if (allowed != null && !allowed.contains(operation) && !allowed.contains(AclOperation.ALL)) {
                    throw new SgdscopeException("not authorized to " + operation + " topic " + topic + as);
                }
            }
        } catch (TimeoutException e) {
            throw new SgdscopeException("cannot check the permissions on " + topics + ": no answer within 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SgdscopeException("interrupted while checking the permissions on " + topics);
        }
    }

    /** The SASL user name in {@code sasl.jaas.config}, if any (SCRAM and PLAIN logins have one). */
    static java.util.Optional<String> principal(Map<String, String> clientProperties) {
        String jaas = clientProperties.get("sasl.jaas.config");
        if (jaas == null) {
            return java.util.Optional.empty();
        }
        Matcher matcher = USERNAME.matcher(jaas);
        return matcher.find() ? java.util.Optional.of(matcher.group(1)) : java.util.Optional.empty();
    }
}
