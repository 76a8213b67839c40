package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed in-process after a checkpoint and resumed by a second "process" (a new publisher), against a
 * real Kafka broker: read back from the topics and deduplicated by (runId, iteration) as the streams apps do
 * (the first record of an iteration counts, later ones are dropped), the run covers every iteration exactly
 * once, with the losses of an uninterrupted run of the same seed.
 */
class ResumeIT {

    private static final int T = 200;
    private static final int CRASH_AT = 150;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(4, Topics.all().stream()
            .filter(spec -> List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA).contains(spec.name())).toList(),
            Topics.Spec::name, Topics.Spec::config);

    @TempDir
    Path checkpoints;

    @Test
    void aRunKilledAfterACheckpointAndResumedIsConsumedWithEveryIterationExactlyOnceAfterDeduplication() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("resume-it").runs(3).iterations(T).workers(1)
                .optimizer(OptimizerSettings.named(OptimizerSettings.ADAPTIVE))
                .curvature(CurvatureSettings.off().withMomentsEvery(10))
                .checkpoint(CheckpointSettings.every(checkpoints, 10)).build();
        String crashed = Experiment.runId("resume-it", 1);
        StepObserver crash = (runId, t, theta, gradient) -> {
            if (runId.equals(crashed) && t == CRASH_AT) {
                throw new AssertionError("simulated crash at t = " + t);
            }
        };

        try (KafkaTelemetryPublisher first = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            Experiment experiment = PerRunEngine.experiment(settings, settings.dataset().load(), first, ExperimentListener.none(), crash);
            assertThrows(IllegalStateException.class, experiment::run);
        }
        ExperimentResult result;
        try (KafkaTelemetryPublisher second = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            result = PerRunEngine.experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build(), second,
                    ExperimentListener.none()).run();
            second.flush();
        }
        assertEquals(1, result.skipped(), "run 0 had finished before the crash");
        assertEquals(2, result.count(RunStatus.COMPLETED));
        int resumedFrom = result.runs().get(0).resumedFrom();
        assertTrue(resumedFrom >= 100 && resumedFrom <= CRASH_AT && resumedFrom % 10 == 0,
                "resumed from a checkpoint of the last iterations before the crash: " + resumedFrom);
        int twice = CRASH_AT - resumedFrom;

        Map<String, List<IterationMetrics>> byRun = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.ITERATIONS, 3 * T + twice)) {
            IterationMetrics metrics = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, record.value());
            assertEquals(record.key(), metrics.getRunId());
            byRun.computeIfAbsent(metrics.getRunId(), id -> new ArrayList<>()).add(metrics);
        }
        List<Integer> everyIteration = IntStream.range(0, T).boxed().toList();
        for (int r : new int[] {0, 2}) {
            List<Integer> iterations = byRun.get(Experiment.runId("resume-it", r)).stream()
                    .map(IterationMetrics::getIteration).toList();
            assertEquals(everyIteration, iterations, "run " + r + " was never interrupted: each iteration once");
        }
        List<IterationMetrics> records = byRun.get(crashed);
        assertEquals(T + twice, records.size(), "iterations " + resumedFrom + ".." + (CRASH_AT - 1) + " were sent twice");
        Map<Integer, IterationMetrics> once = CheckpointResumeTest.firstOfEachIteration(records);
        assertEquals(everyIteration, List.copyOf(once.keySet()), "after deduplication, each iteration exactly once");

        InMemoryTelemetrySink reference = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings.toBuilder().experimentId("resume-ref").runs(2).checkpoint(CheckpointSettings.off()).build(),
                reference, ExperimentListener.none()).run();
        List<IterationMetrics> uninterrupted = reference.iterations(Experiment.runId("resume-ref", 1));
        for (int t = 0; t < T; t++) {
            CheckpointResumeTest.assertSameValues(uninterrupted.get(t), once.get(t));
        }
        for (IterationMetrics record : records) {
            // Whichever copy a consumer keeps, the numbers are the same.
            CheckpointResumeTest.assertSameValues(uninterrupted.get(record.getIteration()), record);
        }

        List<RunStarted> starts = new ArrayList<>();
        Map<String, List<RunFinished>> finishes = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.RUNS, 3 + 1 + 3)) {
            SpecificRecord value = TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value());
            if (value instanceof RunStarted started) {
                starts.add(started);
            } else {
                RunFinished finished = assertInstanceOf(RunFinished.class, value);
                finishes.computeIfAbsent(finished.getRunId(), id -> new ArrayList<>()).add(finished);
            }
        }
        List<RunStarted> startsOfCrashed = starts.stream().filter(s -> s.getRunId().equals(crashed)).toList();
        assertEquals(2, startsOfCrashed.size());
        assertEquals(startsOfCrashed.get(0), startsOfCrashed.get(1), "the resumed run sends its very RunStarted again");
        assertEquals(3, finishes.size());
        RunFinished finished = finishes.get(crashed).get(0);
        assertEquals(1, finishes.get(crashed).size(), "one RunFinished, after the resume");
        assertEquals(RunStatus.COMPLETED, finished.getStatus());
        assertEquals(T, finished.getIterations());
        assertEquals(reference.finished(Experiment.runId("resume-ref", 1)).orElseThrow().getFinalLoss(),
                finished.getFinalLoss(), 0.0);
    }

    /** Reads a topic from the start until {@code expected} records arrived (or 30 s passed), then polls once more. */
    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            consumer.poll(Duration.ofMillis(300)).forEach(records::add);
        }
        assertEquals(expected, records.size(), "records on " + topic);
        return records;
    }
}
