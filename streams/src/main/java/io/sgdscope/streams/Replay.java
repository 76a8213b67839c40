package io.sgdscope.streams;

import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import io.sgdscope.streams.runs.AppScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Runs both streams apps again over the kept history, under an application id of its own and with
 * settings of its own (e.g. another delta, c or window), writing to topics of its own: the live apps,
 * their consumer groups and their outputs are not touched. It ends by itself once it has caught up
 * with the end offsets the input topics had when it started: every input partition and every internal
 * repartition topic consumed to its end, twice in a row with nothing moving.
 */
public final class Replay {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final int QUIET_CHECKS = 3;

    /** What a replay did. */
    public record Result(String applicationId, AppScope scope, Duration took) {}

    private Replay() {}

    /**
     * @param settings the replay's application id (prefix) and connection; its dead-letter topic is
     *                 ignored (the live apps already copied unreadable records there)
     * @param scope    what to read and the replay's own output topics (created if missing)
     * @param progress told now and then how far it got
     * @throws IllegalStateException if it has not caught up within {@code timeout}
     */
    public static Result run(StreamsSettings settings, QuantilesSettings quantiles, DeviationSettings deviation, AppScope scope,
                             Duration timeout, Consumer<String> progress) throws InterruptedException {
        if (scope.quantilesTopic().equals(Topics.QUANTILES) || scope.alertsTopic().equals(Topics.ALERTS)) {
            throw new IllegalArgumentException("a replay writes to topics of its own, not to " + Topics.QUANTILES + " or " + Topics.ALERTS);
        }
        long start = System.nanoTime();
        Map<String, Object> adminConfig = new HashMap<>(settings.clientProperties());
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        try (Admin admin = Admin.create(adminConfig)) {
            createOutputs(admin, scope);
            Map<TopicPartition, Long> inputEnds = endOffsets(admin, inputPartitions(admin));
            progress.accept("replaying " + total(inputEnds) + " input records under application id " + settings.applicationId());
            try (StreamsApps apps = StreamsApps.start(settings.withDeadLetterTopic(null).withMetrics(settings.metricsHost(), 0),
                    quantiles, deviation, scope)) {
                awaitCaughtUp(admin, settings, inputEnds, timeout, progress);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("replay failed: " + e.getCause(), e.getCause());
        }
        return new Result(settings.applicationId(), scope, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Waits until both apps of {@code settings} consumed their inputs to {@code inputEnds} and drained their internal topics. */
    static void awaitCaughtUp(Admin admin, StreamsSettings settings, Map<TopicPartition, Long> inputEnds, Duration timeout,
                                      Consumer<String> progress) throws InterruptedException, ExecutionException {
        List<String> groups = List.of(settings.quantilesApplicationId(), settings.deviationApplicationId());
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<TopicPartition, Long> previous = Map.of();
        int quiet = 0;
        long lastReport = 0;
        while (System.nanoTime() < deadline) {
            Thread.sleep(POLL.toMillis());
            Map<TopicPartition, Long> committed = new HashMap<>();
            boolean caughtUp = true;
            for (String group : groups) {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get();
                offsets.forEach((tp, offset) -> committed.put(new TopicPartition(group + "|" + tp.topic(), tp.partition()), offset.offset()));
                caughtUp &= consumedTo(offsets, inputEnds, group.equals(settings.deviationApplicationId()));
                Map<TopicPartition, Long> internal = new HashMap<>();
                for (TopicPartition tp : offsets.keySet()) {
                    if (tp.topic().startsWith(group + "-")) {
                        internal.put(tp, 0L);
                    }
                }
                Map<TopicPartition, Long> internalEnds = internal.isEmpty() ? Map.of() : endOffsets(admin, internal.keySet());
                for (Map.Entry<TopicPartition, Long> end : internalEnds.entrySet()) {
                    caughtUp &= offsets.get(end.getKey()).offset() >= end.getValue();
                }
            }
            quiet = caughtUp && committed.equals(previous) ? quiet + 1 : 0;
            previous = committed;
            if (quiet >= QUIET_CHECKS) {
                progress.accept("caught up with the end offsets seen at the start");
                return;
            }
            if (System.nanoTime() - lastReport > 5_000_000_000L) {
                lastReport = System.nanoTime();
                progress.accept("replaying: " + consumed(committed, inputEnds) + " of " + total(inputEnds) + " input records consumed");
            }
        }
        throw new IllegalStateException("the replay had not caught up after " + timeout.toSeconds() + " s");
    }

    /** Whether the group consumed every non-empty input partition it reads to the end offset seen at the start. */
    private static boolean consumedTo(Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Long> inputEnds,
                                      boolean withoutSpectra) {
        for (Map.Entry<TopicPartition, Long> end : inputEnds.entrySet()) {
            if (end.getValue() == 0 || (withoutSpectra && end.getKey().topic().equals(Topics.SPECTRA))) {
                continue;
            }
            OffsetAndMetadata offset = offsets.get(end.getKey());
            if (offset == null || offset.offset() < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static long consumed(Map<TopicPartition, Long> committed, Map<TopicPartition, Long> inputEnds) {
        long sum = 0;
        for (TopicPartition input : inputEnds.keySet()) {
            long best = 0;
            for (Map.Entry<TopicPartition, Long> entry : committed.entrySet()) {
                if (entry.getKey().topic().endsWith("|" + input.topic()) && entry.getKey().partition() == input.partition()) {
                    best = Math.max(best, entry.getValue());
                }
            }
            sum += Math.min(best, inputEnds.get(input));
        }
        return sum;
    }

    private static long total(Map<TopicPartition, Long> ends) {
        return ends.values().stream().mapToLong(Long::longValue).sum();
    }

    static Set<TopicPartition> inputPartitions(Admin admin) throws InterruptedException, ExecutionException {
        Set<TopicPartition> partitions = new HashSet<>();
        try {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of(Topics.ITERATIONS, Topics.RUNS, Topics.SPECTRA))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            topics.values().forEach(topic -> topic.partitions().forEach(p -> partitions.add(new TopicPartition(topic.name(), p.partition()))));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot describe the input topics: " + e, e);
        }
        return partitions;
    }

    static Map<TopicPartition, Long> endOffsets(Admin admin, Set<TopicPartition> partitions)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result = admin.listOffsets(latest,
                new org.apache.kafka.clients.admin.ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
        Map<TopicPartition, Long> ends = new HashMap<>();
        result.forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    private static void createOutputs(Admin admin, AppScope scope) throws InterruptedException, ExecutionException {
        int partitions;
        short replication;
        try {
            TopicDescription iterations = admin.describeTopics(List.of(Topics.ITERATIONS)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(Topics.ITERATIONS);
            partitions = iterations.partitions().size();
            replication = (short) iterations.partitions().get(0).replicas().size();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot describe " + Topics.ITERATIONS + ": " + e, e);
        }
        List<NewTopic> outputs = new ArrayList<>();
        outputs.add(new NewTopic(scope.quantilesTopic(), partitions, replication).configs(configOf(Topics.QUANTILES)));
        outputs.add(new NewTopic(scope.alertsTopic(), partitions, replication).configs(configOf(Topics.ALERTS)));
        for (var future : admin.createTopics(outputs).values().values()) {
            try {
                future.get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        try {  // the apps write to them at once: wait until they are visible, not only acknowledged
            TopicVisibility.await(admin, List.of(scope.quantilesTopic(), scope.alertsTopic()), TopicVisibility.WAIT,
                    Duration.ofSeconds(30));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot describe the replay's output topics: " + e, e);
        }
    }

    private static Map<String, String> configOf(String topic) {
        return Topics.all().stream().filter(spec -> spec.name().equals(topic)).findFirst().orElseThrow().config();
    }
}
