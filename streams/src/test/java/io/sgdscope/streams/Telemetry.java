package io.sgdscope.streams;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.deviation.MomentsAtTheta;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/** Telemetry records for tests: plausible values everywhere the test does not care. */
public final class Telemetry {

    private Telemetry() {}

    /** A run's loss at an iteration, no moments: batch 5, step 0.1, ‖g‖ = 1. */
    public static IterationMetrics iteration(String experimentId, String runId, int iteration, double loss) {
        return IterationMetrics.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setIteration(iteration)
                .setTimestampMillis(1_700_000_000_000L + iteration)
                .setLoss(loss)
                .setMinibatchLoss(loss)
                .setStepSize(0.1)
                .setBatchSize(5)
                .setSgNorm(1.0)
                .build();
    }

    /** A record with the moments of Theorem 1 at θ_t (NaN fields stay null: not computed). */
    public static IterationMetrics withMoments(String experimentId, String runId, int iteration, double loss, MomentsAtTheta at) {
        IterationMetrics record = iteration(experimentId, runId, iteration, loss);
        record.setStepSize(at.stepSize());
        record.setBatchSize(at.batchSize());
        record.setGradNormSq(nullIfNaN(at.gradNormSq()));
        record.setTraceM(nullIfNaN(at.traceM()));
        record.setHessianSpectralNorm(nullIfNaN(at.hessianNorm()));
        record.setSigmaHalfMuNorm(nullIfNaN(at.sigmaHalfMuNorm()));
        record.setSigmaFrobenius(nullIfNaN(at.sigmaFrobenius()));
        record.setSigmaSpectral(nullIfNaN(at.sigmaSpectral()));
        return record;
    }

    private static Double nullIfNaN(double value) {
        return Double.isNaN(value) ? null : value;
    }

    /** A RunStarted with the fields the apps read and plausible provenance. */
    public static RunStarted started(String experimentId, String runId, int runIndex, String optimizer, long parameters) {
        return RunStarted.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setRunIndex(runIndex)
                .setSeed(runIndex)
                .setStartedAtMillis(1_700_000_000_000L)
                .setPlannedIterations(400)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50).setClasses(10)
                        .setRandomLabelFraction(0.0).setStandardized(true).setSeed(1).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(parameters).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName(optimizer).setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64")
                .setBackend("CPU")
                .setVersions(Map.of("sgdscope", "test"))
                .setSettings(Map.of())
                .build();
    }

    public static RunFinished finished(String experimentId, String runId, RunStatus status, int iterations, Double finalLoss) {
        return RunFinished.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setStatus(status)
                .setIterations(iterations)
                .setFinishedAtMillis(1_700_000_100_000L)
                .setDurationSeconds(1.0)
                .setFinalLoss(finalLoss)
                .setDroppedRecords(0)
                .setMessage(status == RunStatus.COMPLETED ? null : "stopped (" + status + ")")
                .build();
    }

    /**
     * Kafka Streams properties for a TopologyTestDriver: unreadable and unprocessable records counted and
     * dead-lettered, as {@link StreamsSettings#toStreamsProperties} sets them up.
     */
    public static Properties driverProperties(Path stateDir, io.micrometer.core.instrument.MeterRegistry registry) {
        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "driver-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        properties.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        properties.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UnreadableRecordHandler.class);
        properties.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, FailedRecordHandler.class);
        properties.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, FailedRecordHandler.class);
        properties.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, Topics.DEAD_LETTERS);
        properties.put(UnreadableRecordHandler.METER_REGISTRY_CONFIG, registry);
        return properties;
    }
}
