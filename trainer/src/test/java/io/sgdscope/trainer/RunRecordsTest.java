package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetDescription;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * The record factory sets every field of every record it builds from the values it is handed: given a value for
 * each, no field is left null, and each input lands in its own field. A field added to a schema and not to
 * {@link RunRecords} fails here.
 */
class RunRecordsTest {

    private final TrainerSettings settings = TrainerSettings.builder().experimentId("records").runs(2).iterations(10)
            .curvature(CurvatureSettings.off()).build();
    private final RunRecords records = new RunRecords(settings, GaussK.generate(GaussKSettings.GAUSS_10),
            new Provenance("CPU", "a CPU", "a host", Map.of("nd4j", "1.0.0-M2.1")));

    /** Every field (nested ones too) has a value, but those named in {@code nullHere} ("Record.field"). */
    private static void assertEveryFieldSet(GenericRecord record, String... nullHere) {
        for (var field : record.getSchema().getFields()) {
            String name = record.getSchema().getName() + "." + field.name();
            Object value = record.get(field.pos());
            if (List.of(nullHere).contains(name)) {
                assertNull(value, name);
                continue;
            }
            assertNotNull(value, name + " is not set by RunRecords");
            if (value instanceof GenericRecord nested) {
                assertEveryFieldSet(nested, nullHere);
            }
        }
    }

    @Test
    void everyIterationFieldComesFromItsInput() {
        GradientMoments moments = new GradientMoments(1, 2, 3, 4, 5, 6);
        RunCurvature.Measured measured = new RunCurvature.Measured(moments, 7.0, 8.0, null, 7.0, null, null);
        IterationMetrics record = records.iteration("records-r00001", 3, 0.5, 0.9, 0.6, 0.1, 11, 0.25, 0.55, 0.85,
                1.25, measured);
        assertEveryFieldSet(record);
        assertEquals("records-r00001", record.getRunId());
        assertEquals("records", record.getExperimentId());
        assertEquals(3, record.getIteration());
        assertEquals(0.5, record.getLoss());
        assertEquals(0.9, record.getTrainAccuracy());
        assertEquals(0.6, record.getMinibatchLoss());
        assertEquals(0.1, record.getStepSize());
        assertEquals(settings.batchSize(), record.getBatchSize());
        assertEquals(11.0, record.getSgNorm());
        assertEquals(0.25, record.getSgCosPrev());
        assertEquals(0.55, record.getTestLoss());
        assertEquals(0.85, record.getTestAccuracy());
        assertEquals(1.0, record.getGradNormSq());
        assertEquals(2.0, record.getTraceM());
        assertEquals(3.0, record.getTraceSigma());
        assertEquals(4.0, record.getSigmaFrobenius());
        assertEquals(5.0, record.getSigmaSpectral());
        assertEquals(6.0, record.getSigmaHalfMuNorm());
        assertEquals(7.0, record.getHessianSpectralNorm());
        assertEquals(8.0, record.getProbeSeconds());
        assertEquals(1.25, record.getParamDistance());
    }

    @Test
    void quantitiesNotComputedAreNull() {
        IterationMetrics record = records.iteration("records-r00000", 0, 2.3, 0.1, 2.4, 0.1, 3, null, null, null,
                0.0, RunCurvature.Measured.NOTHING);
        assertNull(record.getSgCosPrev());
        assertNull(record.getTestLoss());
        assertNull(record.getGradNormSq());
        assertNull(record.getHessianSpectralNorm());
        assertNull(record.getProbeSeconds());
    }

    @Test
    void everyRunStartedAndRunFinishedFieldIsSet() {
        RunStarted started = records.started(1, 42, "records-r00000");
        // Generated data: read from no folder. Not sharded: no shard named.
        assertEveryFieldSet(started, "DatasetSpec.source", "RunStarted.shardIndex", "RunStarted.shardCount");
        assertEquals("records-r00000", started.getFrameKey());
        assertEquals("records-r00001", started.getRunId());
        assertEquals(42, started.getSeed());
        assertEquals("CPU", started.getBackend());
        assertEquals(settings.asMap(), started.getSettings());
        assertEquals(2, started.getPlannedRuns());

        // Shard 2 of 2 of the same experiment names its shard; plannedRuns is still the whole experiment's.
        RunRecords shardRecords = new RunRecords(settings.toBuilder().shard(new Shard(2, 2)).build(),
                GaussK.generate(GaussKSettings.GAUSS_10), new Provenance("CPU", "a CPU", "a host", Map.of("nd4j", "1.0.0-M2.1")));
        RunStarted sharded = shardRecords.started(1, 42, null);
        assertEveryFieldSet(sharded, "DatasetSpec.source", "RunStarted.frameKey");
        assertEquals(2, sharded.getShardIndex());
        assertEquals(2, sharded.getShardCount());
        assertEquals(2, sharded.getPlannedRuns());

        RunFinished finished = records.finished("records-r00001", RunStatus.DIVERGED, 7, 1.5, 0.3, 2, "why",
                new GeneralizationTerms(0.1, 10, 20, 0.4, 0.05), "records-r00000");
        assertEveryFieldSet(finished);
        assertEquals("records-r00000", finished.getFrameKey());
        assertEquals(RunStatus.DIVERGED, finished.getStatus());
        assertEquals(7, finished.getIterations());
        assertEquals(1.5, finished.getDurationSeconds());
        assertEquals(0.3, finished.getFinalLoss());
        assertEquals(2, finished.getDroppedRecords());
        assertEquals("why", finished.getMessage());
        assertEquals("exact", finished.getHessianDiagonalMethod());
        assertEquals(0.1, finished.getPriorSigma());
        assertEquals(10.0, finished.getEffectiveCurvature());
        assertEquals(20.0, finished.getWeightedFrobenius());
        assertEquals(0.4, finished.getGeneralizationBound());
    }

    /**
     * RunStarted, built by the client's ClientRecords from the trainer's description, is byte for byte the record the
     * trainer built itself field by field before (that builder is written out here), sharded or not, with or without
     * a frame key.
     */
    @Test
    void runStartedIsByteForByteTheRecordBuiltFieldByFieldFromTheSettings() throws Exception {
        Provenance provenance = new Provenance("CPU", "a CPU", "a host",
                Map.of("nd4j", "1.0.0-M2.1", "java", "17", "kafka-clients", "3.7.0", "sgdscope", "test"));
        Dataset dataset = GaussK.generate(GaussKSettings.GAUSS_10);
        for (TrainerSettings each : List.of(settings, settings.toBuilder().shard(new Shard(2, 2)).build())) {
            for (String frameKey : java.util.Arrays.asList(null, "records-r00000")) {
                RunStarted actual = new RunRecords(each, dataset, provenance).started(1, 42, frameKey);
                RunStarted expected = startedFieldByField(each, dataset, provenance, 1, 42, frameKey);
                expected.setStartedAtMillis(actual.getStartedAtMillis());         // each made at its own time
                assertEquals(expected, actual);
                assertEquals(expected.toByteBuffer(), actual.toByteBuffer(), "the encoded record, map order included");
            }
        }
    }

    /** The trainer's RunStarted as RunRecords built it before it handed the client a RunDescription. */
    private static RunStarted startedFieldByField(TrainerSettings settings, Dataset dataset, Provenance provenance,
                                                  int runIndex, long seed, String frameKey) {
        DatasetDescription data = dataset.description();
        MlpArchitecture architecture = new MlpArchitecture(settings.layers());
        boolean sharded = settings.shard().isPart();
        return RunStarted.newBuilder()
                .setRunId(Experiment.runId(settings.experimentId(), runIndex))
                .setExperimentId(settings.experimentId())
                .setRunIndex(runIndex)
                .setSeed(seed)
                .setStartedAtMillis(0)
                .setPlannedIterations(settings.iterations())
                .setDataset(DatasetSpec.newBuilder()
                        .setName(data.name())
                        .setSamples(data.samples())
                        .setInputDimension(data.inputDimension())
                        .setClasses(data.classes())
                        .setRandomLabelFraction(data.randomLabelFraction())
                        .setStandardized(data.standardized())
                        .setSeed(data.seed())
                        .setSource(data.source())
                        .build())
                .setModel(ModelSpec.newBuilder()
                        .setLayers(List.copyOf(architecture.layers()))
                        .setActivation("relu")
                        .setLoss("softmax_cross_entropy")
                        .setParameterCount(architecture.parameterCount())
                        .setInitialization(settings.initialization().id())
                        .build())
                .setOptimizer(OptimizerSpec.newBuilder()
                        .setName(settings.optimizer().provenanceName())
                        .setLearningRate(settings.learningRate())
                        .setBatchSize(settings.batchSize())
                        .setSampling("with-replacement")
                        .build())
                .setPrecision(settings.precision().id())
                .setBackend(provenance.backend())
                .setDevice(provenance.device())
                .setHost(provenance.host())
                .setVersions(provenance.versions())
                .setSettings(settings.asMap())
                .setFrameKey(frameKey)
                .setPlannedRuns(settings.runs())
                .setShardIndex(sharded ? settings.shard().index() : null)
                .setShardCount(sharded ? settings.shard().count() : null)
                .build();
    }

    @Test
    void aRunPublishedPerRunNamesNoFrameKey() {
        assertNull(records.started(0, 7, null).getFrameKey());
        assertNull(records.finished("records-r00000", RunStatus.COMPLETED, 10, 1, 0.2, 0, null, null, null).getFrameKey());
    }

    @Test
    void aFramesRowsAreTheRecordsEachRunWouldPublishAlone() {
        String[] runIds = {"records-r00004", "records-r00005", "records-r00007"};
        double[] loss = {0.5, Double.NaN, 0.7};
        double[] accuracy = {0.9, 0.1, 0.8};
        double[] minibatchLoss = {0.6, Double.POSITIVE_INFINITY, 0.65};
        double[] sgNorm = {11, 12, 0};
        double[] sgCosPrev = {0.25, -0.5, Double.NaN};
        boolean[] sgCosMissing = {false, false, true};                  // a zero gradient has no direction
        double[] testLoss = {0.55, 0.56, 0.57};
        double[] testAccuracy = {0.85, 0.86, 0.87};
        double[] paramDistance = {0.0, 2.5, Double.POSITIVE_INFINITY};
        // The moments and L of runs 4 and 7; run 5 (a non-finite loss) was not probed.
        GradientMoments[] moments = {new GradientMoments(1, 2, 3, 4, 5, 6), null,
                new GradientMoments(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)};
        double[] l = {7, Double.NaN, 0.7};
        double[] probeSeconds = {0.01, Double.NaN, 0.01};
        EnsembleCurvature.Columns curvature = new EnsembleCurvature.Columns(new double[] {1, Double.NaN, 0.1},
                new double[] {2, Double.NaN, 0.2}, new double[] {3, Double.NaN, 0.3}, new double[] {4, Double.NaN, 0.4},
                new double[] {5, Double.NaN, 0.5}, new double[] {6, Double.NaN, 0.6}, l, probeSeconds,
                new boolean[] {false, true, false});
        Frame frame = records.frame(runIds, 3, loss, accuracy, minibatchLoss, 0.1, sgNorm, sgCosPrev, sgCosMissing,
                testLoss, testAccuracy, paramDistance, curvature);
        assertEquals(List.of(runIds), frame.runIds());
        assertEquals("records", frame.experimentId());
        assertEquals(3, frame.iteration());
        Double[] cos = {0.25, -0.5, null};
        for (int i = 0; i < runIds.length; i++) {
            RunCurvature.Measured measured = moments[i] == null ? RunCurvature.Measured.NOTHING
                    : new RunCurvature.Measured(moments[i], l[i], probeSeconds[i], null, l[i], null, null);
            IterationMetrics alone = records.iteration(runIds[i], 3, loss[i], accuracy[i], minibatchLoss[i], 0.1,
                    sgNorm[i], cos[i], testLoss[i], testAccuracy[i], paramDistance[i], measured);
            IterationMetrics row = frame.row(i);
            alone.setTimestampMillis(row.getTimestampMillis());         // each made at its own time
            assertEquals(alone.toString(), row.toString(), runIds[i]);   // every field, NaN included
        }
        assertNull(frame.row(1).getHessianSpectralNorm(), "an unprobed run has no L");
        assertEquals(0.7, frame.row(2).getHessianSpectralNorm());
        assertTrue(frame.has(FrameColumn.SG_COS_PREV) && frame.has(FrameColumn.TEST_LOSS));
    }

    @Test
    void aFrameWithoutCosinesTestSetOrProbeLeavesThoseColumnsOut() {
        Frame frame = records.frame(new String[] {"records-r00000", "records-r00001"}, 0, new double[] {2.3, 2.4},
                new double[] {0.1, 0.2}, new double[] {2.5, 2.6}, 0.1, new double[] {3, 4}, null, null, null, null,
                new double[] {0, 0}, null);
        assertFalse(frame.has(FrameColumn.SG_COS_PREV));
        for (FrameColumn curvature : List.of(FrameColumn.GRAD_NORM_SQ, FrameColumn.TRACE_M, FrameColumn.TRACE_SIGMA,
                FrameColumn.SIGMA_FROBENIUS, FrameColumn.SIGMA_SPECTRAL, FrameColumn.SIGMA_HALF_MU_NORM,
                FrameColumn.HESSIAN_SPECTRAL_NORM, FrameColumn.PROBE_SECONDS)) {
            assertFalse(frame.has(curvature), curvature + ": not probed at this iteration");
        }
        assertFalse(frame.has(FrameColumn.TEST_LOSS));
        assertFalse(frame.has(FrameColumn.TEST_ACCURACY));
        for (IterationMetrics row : frame.rows()) {
            assertNull(row.getSgCosPrev());
            assertNull(row.getTestLoss());
            assertEquals(0.1, row.getStepSize());
            assertEquals(settings.batchSize(), row.getBatchSize());
        }
        assertEquals(2.4, frame.row(1).getLoss());
        assertEquals(4.0, frame.row(1).getSgNorm());
    }
}
