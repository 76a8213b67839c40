package io.sgdscope.schemas.serde;

import io.sgdscope.schemas.AlertSeverity;
import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** One record of every type with every field set, optional ones included. */
final class SampleRecords {

    private SampleRecords() {}

    static RunStarted runStarted() {
        return RunStarted.newBuilder()
                .setRunId("gauss10-r0003").setExperimentId("gauss10").setRunIndex(3).setSeed(42L)
                .setStartedAtMillis(1_790_000_000_000L).setPlannedIterations(400)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50)
                        .setClasses(10).setRandomLabelFraction(0.15).setStandardized(true).setSeed(7L)
                        .setSource(null).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(1150L).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64").setBackend("CPU").setDevice("AMD EPYC").setHost("node-1")
                .setVersions(Map.of("sgdscope", "0.1.0", "nd4j", "1.0.0-M2.1"))
                .setSettings(Map.of("lr", "0.1", "batch", "5"))
                .build();
    }

    static RunFinished runFinished() {
        return RunFinished.newBuilder()
                .setRunId("gauss10-r0003").setExperimentId("gauss10").setStatus(RunStatus.DIVERGED)
                .setIterations(17).setFinishedAtMillis(1_790_000_001_000L).setDurationSeconds(1.25)
                .setFinalLoss(Double.NaN).setDroppedRecords(2L).setMessage("loss became NaN at iteration 17")
                .build();
    }

    static IterationMetrics iterationMetrics() {
        return IterationMetrics.newBuilder()
                .setRunId("gauss10-r0003").setExperimentId("gauss10").setIteration(12)
                .setTimestampMillis(1_790_000_000_500L).setLoss(0.731).setMinibatchLoss(0.52).setStepSize(0.1)
                .setBatchSize(5).setSgNorm(3.5).setSgCosPrev(-0.25).setTrainAccuracy(0.91)
                .setGradNormSq(1.5).setTraceM(20.0).setTraceSigma(18.5).setSigmaFrobenius(9.0)
                .setSigmaSpectral(8.0).setSigmaHalfMuNorm(2.0).setHessianSpectralNorm(12.0).setProbeSeconds(0.004)
                .build();
    }

    static SpectrumSnapshot spectrumSnapshot() {
        return SpectrumSnapshot.newBuilder()
                .setRunId("gauss10-r0003").setExperimentId("gauss10").setIteration(100)
                .setTimestampMillis(1_790_000_000_900L).setPrecision("float64").setTopK(2)
                .setHessianEigenvalues(List.of(12.0, 3.0)).setHessianResiduals(List.of(1e-9, 2e-9))
                .setSecondMomentEigenvalues(List.of(40.0, 5.0)).setSecondMomentResiduals(List.of(1e-10, 3e-10))
                .setPredictionHessianEigenvalues(List.of(30.0, 1.0)).setPredictionHessianResiduals(List.of(0.0, 0.0))
                .setPrincipalAngleCosines(List.of(0.99, 0.6))
                .setHessianLayerLoadings(List.of(List.of(0.1, 0.2, 0.7), List.of(0.3, 0.3, 0.4)))
                .setDavisKahanBounds(List.of(0.2, 0.4, 0.9))
                .setHessianFullSpectrum(List.of(-1.0, 0.0, 3.0, 12.0)).setSecondMomentFullSpectrum(null)
                .setProbeSeconds(0.26)
                .setHessianMatvecs(60).setSecondMomentMatvecs(null).setPredictionHessianMatvecs(27)
                .build();
    }

    static QuantileSummary quantileSummary() {
        return QuantileSummary.newBuilder()
                .setExperimentId("gauss10").setMetric("loss").setIteration(12).setCount(100L)
                .setMean(0.8).setMin(0.1).setMax(2.3).setP05(0.15).setP10(0.2).setP25(0.4).setP50(0.7)
                .setP75(1.1).setP90(1.6).setP95(1.9).setNormalizedRankError(0.0133)
                .setUpdatedAtMillis(1_790_000_000_600L)
                .build();
    }

    static DeviationAlert deviationAlert() {
        return DeviationAlert.newBuilder()
                .setRunId("gauss10-r0003").setExperimentId("gauss10").setIteration(12)
                .setCheck(DeviationCheck.THEOREM1_INTERVAL).setObserved(6.0).setBound(3.0)
                .setSeverity(AlertSeverity.WARNING).setMessage("6 exceedances in 100 steps, 3 expected at most")
                .setRaisedAtMillis(1_790_000_000_700L)
                .build();
    }

    static List<SpecificRecord> oneOfEach() {
        return List.of(runStarted(), runFinished(), iterationMetrics(), spectrumSnapshot(), quantileSummary(),
                deviationAlert());
    }
}
