package io.sgdscope.analysis.report;

import io.sgdscope.schemas.AlertSeverity;
import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A small experiment with every kind of record, written straight to the topics (known values, no training). */
final class SyntheticExperiment {

    static final String ID = "synthetic";
    static final int RUNS = 30;
    static final int ITERATIONS = 60;
    static final int SPECTRUM_EVERY = 10;

    private SyntheticExperiment() {}

    static void publish(Producer<String, byte[]> producer) {
        Random random = new Random(3);
        for (int r = 0; r < RUNS; r++) {
            String runId = ID + "-r" + r;
            send(producer, Topics.RUNS, Topics.runStartedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                    RunStarted.newBuilder().setRunId(runId).setExperimentId(ID).setRunIndex(r).setSeed(r).setStartedAtMillis(1L)
                            .setPlannedIterations(ITERATIONS)
                            .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50)
                                    .setClasses(10).setRandomLabelFraction(0).setStandardized(true).setSeed(1L).build())
                            .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                                    .setLoss("softmax_cross_entropy").setParameterCount(1150).setInitialization("he-normal").build())
                            .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                                    .setSampling("with-replacement").build())
                            .setPrecision("float64").setBackend("CPU").setVersions(Map.of("sgdscope", "test")).setSettings(Map.of())
                            .build()));
            double loss = 2.3 + 0.2 * random.nextGaussian();
            for (int t = 0; t < ITERATIONS; t++) {
                loss = Math.max(1e-4, loss * (0.9 + 0.05 * random.nextGaussian()));
                send(producer, Topics.ITERATIONS, runId, TelemetrySerdes.iterations().serialize(Topics.ITERATIONS,
                        IterationMetrics.newBuilder().setRunId(runId).setExperimentId(ID).setIteration(t).setTimestampMillis(t)
                                .setLoss(loss).setMinibatchLoss(loss).setStepSize(0.1).setBatchSize(5)
                                .setSgNorm(3 * Math.exp(-t / 20.0) + 0.1 * random.nextDouble())
                                .setSgCosPrev(t == 0 ? null : 0.25 + 0.2 * random.nextGaussian()).build()));
                if (t % SPECTRUM_EVERY == 0) {
                    List<Double> full = null;
                    if (r == 0) {
                        full = new ArrayList<>();
                        for (int i = 0; i < 200; i++) {
                            full.add(i < 180 ? 0.01 * random.nextGaussian() : 1 + 10 * random.nextDouble());
                        }
                    }
                    double top = 10 * Math.exp(-t / 30.0) + 1;
                    send(producer, Topics.SPECTRA, runId, TelemetrySerdes.spectra().serialize(Topics.SPECTRA,
                            SpectrumSnapshot.newBuilder().setRunId(runId).setExperimentId(ID).setIteration(t).setTimestampMillis(t)
                                    .setPrecision("float64").setTopK(3).setHessianEigenvalues(List.of(top, top / 2, top / 4))
                                    .setHessianResiduals(List.of(0.0, 0.0, 0.0))
                                    .setSecondMomentEigenvalues(List.of(top * 0.8, top / 3, top / 5))
                                    .setSecondMomentResiduals(List.of(0.0, 0.0, 0.0))
                                    .setPredictionHessianEigenvalues(List.of(1.0, 0.5, 0.1)).setPredictionHessianResiduals(List.of(0.0, 0.0, 0.0))
                                    .setPrincipalAngleCosines(List.of(0.99, 0.7 + 0.1 * random.nextDouble(), 0.3))
                                    .setHessianLayerLoadings(List.of(List.of(0.2, 0.3, 0.5))).setDavisKahanBounds(List.of(0.1, 0.2, 0.3))
                                    .setHessianFullSpectrum(full).setProbeSeconds(0.01).build()));
                }
            }
            send(producer, Topics.RUNS, Topics.runFinishedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                    RunFinished.newBuilder().setRunId(runId).setExperimentId(ID).setStatus(RunStatus.COMPLETED).setIterations(ITERATIONS)
                            .setFinishedAtMillis(2L).setDurationSeconds(0.1).setFinalLoss(loss).setDroppedRecords(0)
                            .setEffectiveCurvature(5 + random.nextDouble()).setWeightedFrobenius(3 + random.nextDouble())
                            .setGeneralizationBound(0.1 + 0.01 * random.nextDouble()).setPriorSigma(1.0)
                            .setHessianDiagonalMethod("exact").build()));
        }
        for (int a = 0; a < 3; a++) {
            send(producer, Topics.ALERTS, ID + "-r" + a, TelemetrySerdes.alerts().serialize(Topics.ALERTS,
                    DeviationAlert.newBuilder().setRunId(ID + "-r" + a).setExperimentId(ID).setIteration(20 + a)
                            .setCheck(a == 2 ? DeviationCheck.DIVERGENCE : DeviationCheck.THEOREM1_INTERVAL)
                            .setObserved(7).setBound(3).setSeverity(a == 2 ? AlertSeverity.CRITICAL : AlertSeverity.WARNING)
                            .setMessage("7 exceedances in 50 steps <where at most 3 are expected>").setRaisedAtMillis(100 + a).build()));
        }
        producer.flush();
    }

    private static void send(Producer<String, byte[]> producer, String topic, String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key, value));
    }
}
