package io.sgdscope.schemas;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Waits until topics are visible with their partitions. A topic whose creation the controller has
 * acknowledged can still be unknown for a moment to the broker that answers a describe (its metadata
 * lags, longer on a busy machine), and a topic another process is creating right now is unknown until
 * it is done: so "unknown" from one describe is not final. Used wherever topics are created and then
 * relied on, and by the streams apps' start-up check.
 */
public final class TopicVisibility {

    /** How long a topic may stay unknown before it counts as missing: a few seconds. */
    public static final Duration WAIT = Duration.ofSeconds(5);
    private static final long RETRY_MS = 50;

    private TopicVisibility() {}

    /**
     * Describes {@code topics} until each is known with at least one partition, asking again for up to
     * {@code wait} while some are unknown.
     *
     * @param answerTimeout how long each describe may take to answer (a slow broker is not a missing topic)
     * @return the description of each topic
     * @throws ExecutionException if a topic is still unknown (or without partitions) after {@code wait}: its
     *         cause is then an {@link UnknownTopicOrPartitionException} naming the topics, as from a single
     *         describe; at once for any other failure of a describe (no permission, ...)
     * @throws TimeoutException if a describe does not answer within {@code answerTimeout}
     */
    public static Map<String, TopicDescription> await(Admin admin, Collection<String> topics, Duration wait,
                                                      Duration answerTimeout)
            throws ExecutionException, TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        Map<String, TopicDescription> visible = new HashMap<>();
        Set<String> pending = new LinkedHashSet<>(topics);
        while (true) {
            Map<String, KafkaFuture<TopicDescription>> answers = admin.describeTopics(List.copyOf(pending)).topicNameValues();
            for (var answer : answers.entrySet()) {
                try {
                    TopicDescription description = answer.getValue().get(answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    if (!description.partitions().isEmpty()) {
                        visible.put(answer.getKey(), description);
                        pending.remove(answer.getKey());
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
            }
            if (pending.isEmpty()) {
                return visible;
            }
            if (System.nanoTime() >= deadline) {
                throw new ExecutionException(new UnknownTopicOrPartitionException(
                        (pending.size() == 1 ? "topic " : "topics ") + String.join(", ", pending) + " not visible after "
                                + seconds(wait) + " s"));
            }
            Thread.sleep(RETRY_MS);
        }
    }

    private static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? String.valueOf(millis / 1000) : String.valueOf(millis / 1000.0);
    }
}
