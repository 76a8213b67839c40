package io.sgdscope.streams;

import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the apps check before they start: that the dead-letter topic exists (a dead letter sent to a
 * missing topic fails the transaction and stops the app: the very thing the topic is for; brokers
 * rarely auto-create topics), and how many partitions sgd.iterations has (the re-keyed copies of
 * sgd.runs and sgd.spectra get as many, see {@code RunInputs}). A topic still unknown after
 * {@link TopicVisibility#WAIT} counts as missing (one describe is not enough: topics created a moment
 * ago may not be visible yet). If the check itself cannot be made (no
 * Describe permission, a slow broker), it says so and the apps start anyway.
 */
final class TopicCheck {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final Logger log = LoggerFactory.getLogger(TopicCheck.class);

    private TopicCheck() {}

    /**
     * @return the partitions of sgd.iterations, or 0 when they could not be read (Kafka Streams then
     *         sizes the repartition topics itself)
     * @throws IllegalStateException if the dead-letter topic does not exist
     */
    static int inspect(StreamsSettings settings) {
        Properties config = new Properties();
        config.putAll(settings.clientProperties());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (Admin admin = Admin.create(config)) {
            String deadLetters = settings.deadLetterTopic();
            if (deadLetters != null) {
                try {
                    // Unknown is final only after a few seconds: the topic may have been created a moment ago.
                    TopicVisibility.await(admin, List.of(deadLetters), TopicVisibility.WAIT, TIMEOUT);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        throw new IllegalStateException("dead-letter topic " + deadLetters + " does not exist on "
                                + settings.bootstrapServers() + ": create it (Topics.all() lists every topic) or set "
                                + "deadLetterTopic to null");
                    }
                    log.warn("cannot check that dead-letter topic {} exists ({}); starting anyway", deadLetters, e.getCause().toString());
                }
            }
            List<String> inputs = new ArrayList<>(List.of(Topics.ITERATIONS, Topics.RUNS, Topics.SPECTRA));
            Map<String, TopicDescription> described = TopicVisibility.await(admin, inputs, TopicVisibility.WAIT, TIMEOUT);
            int partitions = described.get(Topics.ITERATIONS).partitions().size();
            for (String topic : inputs) {
                int other = described.get(topic).partitions().size();
                if (other != partitions) {
                    log.info("{} has {} partitions, {} {}: its records are re-keyed onto {} partitions", topic, other,
                            Topics.ITERATIONS, partitions, partitions);
                }
            }
            return partitions;
        } catch (ExecutionException e) {
            log.warn("cannot read the partitions of the input topics ({}); Kafka Streams sizes the repartition topics",
                    e.getCause().toString());
            return 0;
        } catch (TimeoutException e) {
            log.warn("cannot check the topics (no answer within {}); starting anyway", TIMEOUT);
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking the topics", e);
        }
    }
}
