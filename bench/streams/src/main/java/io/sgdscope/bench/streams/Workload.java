package io.sgdscope.bench.streams;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
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
 *
 * <p>Two shapes of the same values: one IterationMetrics record per run and iteration ({@code frameRuns}
 * 0), or one IterationFrame per block of {@code frameRuns} runs and iteration, keyed by the block's first run
 * id (RunStarted and RunFinished then carry that frameKey), written with {@code TelemetrySerdes.frames()}.
 */
final class Workload implements AutoCloseable {

    private final String experimentId;
    private final int runs;
    private final int momentsEvery;
    private final int frameRuns;
    private final KafkaProducer<String, IterationMetrics> iterations;
    private final KafkaProducer<String, Frame> frames;
    private final KafkaProducer<String, SpecificRecord> lifecycle;
    private final AtomicLong acked = new AtomicLong();

    Workload(String bootstrap, String experimentId, int runs, int momentsEvery) {
        this(bootstrap, experimentId, runs, momentsEvery, 0);
    }

    /** @param frameRuns runs per IterationFrame, or 0 for one IterationMetrics record per run and iteration */
    Workload(String bootstrap, String experimentId, int runs, int momentsEvery, int frameRuns) {
        this.experimentId = experimentId;
        this.runs = runs;
        this.momentsEvery = momentsEvery;
        this.frameRuns = frameRuns;
        Properties properties = new Properties();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        properties.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        properties.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        properties.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        iterations = new KafkaProducer<>(properties, new StringSerializer(), TelemetrySerdes.iterations().serializer());
        frames = new KafkaProducer<>(properties, new StringSerializer(), TelemetrySerdes.frames().serializer());
        lifecycle = new KafkaProducer<>(properties, new StringSerializer(), TelemetrySerdes.runs().serializer());
    }

    String runId(int run) {
        return experimentId + "-r" + run;
    }

    /** The key of the frames carrying the run's iterations (its block's first run id), or null when published per run. */
    private String frameKey(int run) {
        return frameRuns > 0 ? runId(run / frameRuns * frameRuns) : null;
    }

    /** Kafka records of iteration data per iteration: one per run, or one per block of runs. */
    long recordsPerIteration() {
        return frameRuns > 0 ? (runs + frameRuns - 1) / frameRuns : runs;
    }

    void startRuns(int iterationCount) {
        for (int run = 0; run < runs; run++) {
            lifecycle.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId(run)), started(run, iterationCount)));
        }
        lifecycle.flush();
    }

    /** Sends every run's record of iteration t; returns the time the last one was handed to the producer. */
    long sendIteration(int t) {
        if (frameRuns > 0) {
            for (int from = 0; from < runs; from += frameRuns) {
                frames.send(new ProducerRecord<>(Topics.ITERATIONS, runId(from), frame(from, Math.min(runs, from + frameRuns), t)),
                        (metadata, error) -> acked.incrementAndGet());
            }
            return System.nanoTime();
        }
        for (int run = 0; run < runs; run++) {
            iterations.send(new ProducerRecord<>(Topics.ITERATIONS, runId(run), record(run, t)),
                    (metadata, error) -> acked.incrementAndGet());
        }
        return System.nanoTime();
    }

    void finishRuns(int iterationCount) {
        iterations.flush();
        frames.flush();
        for (int run = 0; run < runs; run++) {
            lifecycle.send(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId(run)), RunFinished.newBuilder()
                    .setRunId(runId(run)).setExperimentId(experimentId).setStatus(RunStatus.COMPLETED)
                    .setIterations(iterationCount).setFinishedAtMillis(System.currentTimeMillis()).setDurationSeconds(1.0)
                    .setFinalLoss(loss(run, iterationCount)).setDroppedRecords(0).setFrameKey(frameKey(run)).build()));
        }
        lifecycle.flush();
    }

    void flush() {
        iterations.flush();
        frames.flush();
        lifecycle.flush();
    }

    long acked() {
        return acked.get();
    }

    private double loss(int run, int t) {
        double noise = new SplittableRandom(run * 1_000_003L + t).nextGaussian();
        return 2.3 * Math.exp(-t / 40.0 + 0.3 * noise) + 0.001;
    }

    /** Iteration t of runs [from, to) as one frame: the values {@link #record} gives each, column by column. */
    private Frame frame(int from, int to, int t) {
        int n = to - from;
        String[] runIds = new String[n];
        double[] loss = new double[n];
        double[] minibatchLoss = new double[n];
        double[] stepSize = new double[n];
        double[] batchSize = new double[n];
        double[] sgNorm = new double[n];
        double[] cosine = new double[n];
        double[] accuracy = new double[n];
        for (int i = 0; i < n; i++) {
            runIds[i] = runId(from + i);
            loss[i] = loss(from + i, t);
            minibatchLoss[i] = loss[i] * 1.1;
            stepSize[i] = 0.1;
            batchSize[i] = 5;
            sgNorm[i] = 1.0 + loss[i];
            cosine[i] = 0.25;
            accuracy[i] = 1 - loss[i] / 2.4;
        }
        Frame.Builder frame = Frame.builder(experimentId, t, System.currentTimeMillis(), runIds)
                .column(FrameColumn.LOSS, loss).column(FrameColumn.MINIBATCH_LOSS, minibatchLoss)
                .column(FrameColumn.STEP_SIZE, stepSize).column(FrameColumn.BATCH_SIZE, batchSize)
                .column(FrameColumn.SG_NORM, sgNorm).column(FrameColumn.TRAIN_ACCURACY, accuracy);
        if (t > 0) {
            frame.column(FrameColumn.SG_COS_PREV, cosine);
        }
        if (momentsEvery > 0 && t % momentsEvery == 0) {
            frame.column(FrameColumn.GRAD_NORM_SQ, loss).column(FrameColumn.TRACE_M, scaled(loss, 4))
                    .column(FrameColumn.TRACE_SIGMA, scaled(loss, 3)).column(FrameColumn.SIGMA_FROBENIUS, loss)
                    .column(FrameColumn.SIGMA_SPECTRAL, scaled(loss, 0.5)).column(FrameColumn.SIGMA_HALF_MU_NORM, scaled(loss, 0.3));
            double[] hessian = new double[n];
            java.util.Arrays.fill(hessian, 10.0);
            frame.column(FrameColumn.HESSIAN_SPECTRAL_NORM, hessian);
        }
        return frame.build();
    }

    private static double[] scaled(double[] values, double factor) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = factor * values[i];
        }
        return result;
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
                .setFrameKey(frameKey(run))
                .build();
    }

    @Override
    public void close() {
        iterations.close();
        frames.close();
        lifecycle.close();
    }
}
