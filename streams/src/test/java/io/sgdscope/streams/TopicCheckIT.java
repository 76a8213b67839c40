package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The apps' start-up check against topics being created at the same moment, as in {@code sgdscope demo}
 * (create the topics, start the apps at once): a topic whose creation is under way, or acknowledged but
 * not yet in the metadata of the broker that answers, must not count as missing.
 */
class TopicCheckIT {

    private static final int PARTITIONS = 3;
    /** Check and creation raced this many times: each round is a new dead-letter topic. */
    private static final int ROUNDS = 40;

    @TempDir
    static Path work;

    private static EmbeddedKafkaBroker broker;
    private static Admin admin;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.start(BrokerSettings.of(work.resolve("broker")));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    @AfterAll
    static void stopBroker() {
        if (admin != null) {
            admin.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static StreamsSettings settings(String deadLetters) {
        return StreamsSettings.defaults(broker.bootstrapServers(), work.resolve("state")).withDeadLetterTopic(deadLetters);
    }

    private static NewTopic topic(String name) {
        return new NewTopic(name, PARTITIONS, (short) 1);
    }

    @Test
    void theCheckRunningWhileTheTopicsAreCreatedSeesThemAllWithTheirPartitions() throws Exception {
        Random random = new Random(19);
        List<String> failures = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            String deadLetters = "race.dlq-" + round;
            List<NewTopic> created = new ArrayList<>(List.of(topic(deadLetters)));
            if (round == 0) {  // the inputs race once too: the check then reads their partitions
                created.add(topic(Topics.ITERATIONS));
                created.add(topic(Topics.RUNS));
                created.add(topic(Topics.SPECTRA));
            }
            // Even rounds: the creation starts up to 40 ms after the check, so the check's describe lands
            // before, during or just after it. Odd rounds: as the demo does, the check starts the moment the
            // creation is acknowledged (the broker's metadata may still lag the controller).
            boolean checkFirst = round % 2 == 0;
            int delayMs = checkFirst ? random.nextInt(40) : 0;
            CompletableFuture<Void> creation = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(delayMs);
                    admin.createTopics(created).all().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            if (!checkFirst) {
                creation.get(60, TimeUnit.SECONDS);
            }
            String when = checkFirst ? "creation " + delayMs + " ms after the check" : "check right after the creation";
            try {
                int partitions = TopicCheck.inspect(settings(deadLetters));
                if (partitions != PARTITIONS) {
                    failures.add("round " + round + " (" + when + "): " + partitions + " partitions");
                }
            } catch (IllegalStateException e) {
                failures.add("round " + round + " (" + when + "): " + e.getMessage());
            }
            creation.get(60, TimeUnit.SECONDS);
        }
        assertEquals(List.of(), failures, "every check sees the topics created alongside it");
    }

    @Test
    @Timeout(60)
    void aFailureOtherThanUnknownIsNotWaitedOut() {
        ExecutionException error = assertThrows(ExecutionException.class, () -> TopicVisibility.await(admin,
                List.of(Topics.ITERATIONS, "not a topic name"), Duration.ofMinutes(10), Duration.ofSeconds(30)));
        assertInstanceOf(InvalidTopicException.class, error.getCause());
    }

    @Test
    void aDeadLetterTopicThatNeverAppearsIsStillReportedMissingInOneLine() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> TopicCheck.inspect(settings("race.dlq-never-created")));
        assertEquals("dead-letter topic race.dlq-never-created does not exist on " + broker.bootstrapServers()
                + ": create it (Topics.all() lists every topic) or set deadLetterTopic to null", error.getMessage());
    }
}
