package io.sgdscope.trainer.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class PublisherMetersTest {

    private static final Node NODE = new Node(1, "localhost", 9092);
    private static final Cluster CLUSTER = new Cluster("test", List.of(NODE),
            List.of(new PartitionInfo(Topics.RUNS, 0, NODE, new Node[] {NODE}, new Node[] {NODE}),
                    new PartitionInfo(Topics.ITERATIONS, 0, NODE, new Node[] {NODE}, new Node[] {NODE})),
            Set.of(), Set.of());

    /** Refuses the next {@code refusals} sends as KafkaProducer does with a full buffer (callback inside send). */
    private static final class RefusingProducer extends MockProducer<String, byte[]> {
        final AtomicInteger refusals = new AtomicInteger();

        RefusingProducer() {
            super(CLUSTER, false, null, new StringSerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            if (refusals.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                RuntimeException e = new BufferExhaustedException("Failed to allocate memory within 250 ms.");
                callback.onCompletion(null, e);
                return CompletableFuture.failedFuture(e);
            }
            return super.send(record, callback);
        }
    }

    @Test
    void lostRecordsAreCountedByTypeFromZero() {
        RefusingProducer producer = new RefusingProducer();
        KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(producer, Duration.ofMillis(200));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PublisherMeters.bind(publisher, registry);
        assertEquals(8, registry.getMeters().size(), "dropped and failed, for each of the 4 types, from the start");
        assertEquals(0.0, registry.getMeters().stream().mapToDouble(m -> m.measure().iterator().next().getValue()).sum());

        producer.refusals.set(2);
        publisher.iteration(iteration(0));                      // dropped
        publisher.iteration(iteration(1));                      // dropped
        publisher.iteration(iteration(2));                      // taken, then fails
        producer.errorNext(new RecordTooLargeException("too large"));

        assertEquals(2, dropped(registry, "iteration"));
        assertEquals(1, failed(registry, "iteration"));
        assertEquals(0, dropped(registry, "spectrum") + dropped(registry, "run_started") + dropped(registry, "run_finished"));
        assertEquals(0, failed(registry, "spectrum") + failed(registry, "run_started") + failed(registry, "run_finished"));
        publisher.close(Duration.ZERO);
    }

    private static IterationMetrics iteration(int t) {
        IterationMetrics record = new IterationMetrics();
        record.setRunId("a");
        record.setExperimentId("e");
        record.setIteration(t);
        record.setLoss(1.0);
        record.setMinibatchLoss(1.0);
        record.setStepSize(0.1);
        record.setBatchSize(5);
        record.setSgNorm(1.0);
        return record;
    }

    private static double dropped(SimpleMeterRegistry registry, String type) {
        return registry.get("sgdscope.trainer.records.dropped").tag("type", type).functionCounter().count();
    }

    private static double failed(SimpleMeterRegistry registry, String type) {
        return registry.get("sgdscope.trainer.records.failed").tag("type", type).functionCounter().count();
    }
}
