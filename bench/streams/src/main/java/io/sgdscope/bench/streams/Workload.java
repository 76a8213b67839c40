package io.sgdscope.bench.streams;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The telemetry of an experiment as a trainer ensemble publishes it: RunStarted for every run, then the
 * runs in lockstep (every run's iteration t before any run's t + 1, as an ensemble batched on one device
 * publishes), the moments of Theorem 1 every {@code momentsEvery} iterations, then RunFinished. Values
 * are plausible SGD numbers (log-normal losses decreasing over t), not a trained network's. Produced
 * like the trainer's publisher: idempotent, linger 20 ms, 256 KiB batches, zstd.
 */
final class Workload implements AutoCloseable {

    private final String experimentId;
    private final int runs;
    private final int momentsEvery;
    private final KafkaProducer<String, IterationMetrics> iterations;
    private final KafkaProducer<String, SpecificRecord> lifecycle;
    private final AtomicLong acked = new AtomicLong();

    Workload(String bootstrap, String experimentId, int runs, int momentsEvery) {
        this.experimentId = experimentId;
        this.runs = runs;
        this.momentsEvery = momentsEvery;
        Properties properties = new Properties();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        properties.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        properties.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        properties.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        iterations = new KafkaProducer<>(properties, new StringSerializer(), TelemetrySerdes.iterations().serializer());
        lifecycle = new KafkaProducer<>(properties, new StringSerializer(), TelemetrySerdes.runs().serializer());
    }

    String runId(int run) {
        return experimentId + "-r" + run;
    }

    void startRuns(int iterationCount) {
        for (int run = 0; run < runs; run++) {
            lifecycle.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId(run)), started(run, iterationCount)));
        }
        lifecycle.flush();
    }

    /** Sends every run's record of iteration t; returns the time the last one was handed to the producer. */
    long sendIteration(int t) {
        for (int run = 0; run < runs; run++) {
            iterations.send(new ProducerRecord<>(Topics.ITERATIONS, runId(run), record(run, t)),
                    (metadata, error) -> acked.incrementAndGet());
        }
        return System.nanoTime();
    }

    void finishRuns(int iterationCount) {
        iterations.flush();
        for (int run = 0; run < runs; run++) {
            lifecycle.send(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId(run)), RunFinished.newBuilder()
                    .setRunId(runId(run)).setExperimentId(experimentId).setStatus(RunStatus.COMPLETED)
                    .setIterations(iterationCount).setFinishedAtMillis(System.currentTimeMillis()).setDurationSeconds(1.0)
                    .setFinalLoss(loss(run, iterationCount)).setDroppedRecords(0).build()));
        }
        lifecycle.flush();
    }

    void flush() {
        iterations.flush();
        lifecycle.flush();
    }

    long acked() {
        return acked.get();
    }

    private double loss(int run, int t) {
        double noise = new SplittableRandom(run * 1_000_003L + t).nextGaussian();
        return 2.3 * Math.exp(-t / 40.0 + 0.3 * noise) + 0.001;
    }

    private IterationMetrics record(int run, int t) {
        double loss = loss(run, t);
        IterationMetrics.Builder builder = IterationMetrics.newBuilder()
                .setRunId(runId(run))
                .setExperimentId(experimentId)
                .setIteration(t)
                .setTimestampMillis(System.currentTimeMillis())
                .setLoss(loss)
                .setMinibatchLoss(loss * 1.1)
                .setStepSize(0.1)
                .setBatchSize(5)
                .setSgNorm(1.0 + loss)
                .setSgCosPrev(t == 0 ? null : 0.25)
                .setTrainAccuracy(1 - loss / 2.4);
        if (momentsEvery > 0 && t % momentsEvery == 0) {
            builder.setGradNormSq(loss).setTraceM(4 * loss).setTraceSigma(3 * loss).setSigmaFrobenius(loss)
                    .setSigmaSpectral(0.5 * loss).setSigmaHalfMuNorm(0.3 * loss).setHessianSpectralNorm(10.0);
        }
        return builder.build();
    }

    private RunStarted started(int run, int iterationCount) {
        return RunStarted.newBuilder()
                .setRunId(runId(run)).setExperimentId(experimentId).setRunIndex(run).setSeed(run)
                .setStartedAtMillis(System.currentTimeMillis()).setPlannedIterations(iterationCount)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50).setClasses(10)
                        .setRandomLabelFraction(0.0).setStandardized(true).setSeed(1).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(1150).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64").setBackend("bench").setVersions(Map.of("sgdscope", "bench")).setSettings(Map.of())
                .build();
    }

    @Override
    public void close() {
        iterations.close();
        lifecycle.close();
    }
}
