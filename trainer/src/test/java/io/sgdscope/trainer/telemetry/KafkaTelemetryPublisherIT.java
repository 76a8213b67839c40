package io.sgdscope.trainer.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The publisher against a real single-node Kafka broker, records read back with a consumer. */
class KafkaTelemetryPublisherIT {

    /** The trainer's topics with several partitions, so that "in order per run" is a real property of the keying. */
    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(4, Topics.all().stream()
            .filter(spec -> List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA).contains(spec.name())).toList(),
            Topics.Spec::name, Topics.Spec::config);

    @Test
    void anExperimentOfThreeRunsPublishesEveryRecordInOrderPerRunWithNothingDropped() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("it").runs(3).iterations(20).workers(2)
                .curvature(CurvatureSettings.defaults().withMomentsEvery(5).withSpectrumEvery(10)).build();
        ExperimentResult result;
        long dropped;
        long failed;
        try (KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), Map.of())) {
            result = new Experiment(settings, publisher, ExperimentListener.none()).run();
            publisher.flush();
            dropped = publisher.droppedRecords() + publisher.droppedSpectra();
            failed = publisher.failedRecords();
        }
        assertEquals(3, result.count(RunStatus.COMPLETED));
        assertEquals(0, dropped);
        assertEquals(0, failed);

        Map<String, List<Integer>> iterationsByKey = new HashMap<>();
        int iterations = 0;
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.ITERATIONS, 60)) {
            IterationMetrics metrics = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, record.value());
            assertEquals(record.key(), metrics.getRunId());
            iterationsByKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(metrics.getIteration());
            iterations++;
        }
        assertEquals(60, iterations);
        List<Integer> zeroTo19 = java.util.stream.IntStream.range(0, 20).boxed().toList();
        for (int r = 0; r < 3; r++) {
            assertEquals(zeroTo19, iterationsByKey.get(Experiment.runId("it", r)), "run " + r);
        }

        Map<String, List<Integer>> spectraByKey = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.SPECTRA, 6)) {
            SpectrumSnapshot spectrum = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, record.value());
            assertEquals(record.key(), spectrum.getRunId());
            assertEquals(15, spectrum.getHessianEigenvalues().size());
            spectraByKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(spectrum.getIteration());
        }
        for (int r = 0; r < 3; r++) {
            assertEquals(List.of(0, 10), spectraByKey.get(Experiment.runId("it", r)), "spectra of run " + r);
        }

        Map<String, SpecificRecord> runRecords = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : readAll(Topics.RUNS, 6)) {
            runRecords.put(record.key(), TelemetrySerdes.runs().deserialize(Topics.RUNS, record.value()));
        }
        assertEquals(6, runRecords.size());
        for (int r = 0; r < 3; r++) {
            String runId = Experiment.runId("it", r);
            RunStarted started = assertInstanceOf(RunStarted.class, runRecords.get(Topics.runStartedKey(runId)));
            assertEquals(runId, started.getRunId());
            RunFinished finished = assertInstanceOf(RunFinished.class, runRecords.get(Topics.runFinishedKey(runId)));
            assertEquals(RunStatus.COMPLETED, finished.getStatus());
            assertEquals(20, finished.getIterations());
            assertEquals(0, finished.getDroppedRecords());
        }
    }

    /** Reads a topic from the start until {@code expected} records arrived (or 30 s passed). */
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
            // One more short poll: more records than expected would be a bug too.
            consumer.poll(Duration.ofMillis(300)).forEach(records::add);
        }
        assertTrue(records.size() >= expected, "only " + records.size() + " of " + expected + " records on " + topic);
        return records;
    }
}
