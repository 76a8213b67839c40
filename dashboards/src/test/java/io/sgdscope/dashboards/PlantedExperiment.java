package io.sgdscope.dashboards;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * An experiment with known telemetry, written straight to the topics: every iteration carries the
 * moments the deviation checks need (eta = 0.1, m = 5, ||mu||^2 = 1, Tr M = 2, L = 1, so the Theorem 1
 * interval of E[Delta_t] is -0.1 +- 0.01 and, at delta = 0.01, c = 1, the allowance is about 0.009).
 * <ul>
 *   <li>run 0 ("deviating", watched, never finishes): its loss falls by 0.1 per step as the theorem
 *       expects, but every 4th step it jumps up by 1, far outside the interval: a planted deviation;</li>
 *   <li>run 1 ("diverging"): its loss becomes NaN at iteration 30; it ends DIVERGED;</li>
 *   <li>runs 2 and 3: well-behaved, completed.</li>
 * </ul>
 */
final class PlantedExperiment {

    static final String ID = "planted";
    static final String DEVIATING_RUN = ID + "-r00000";
    static final int ITERATIONS = 200;

    private PlantedExperiment() {}

    static void publish(Producer<String, byte[]> producer) throws InterruptedException {
        // As a trainer does, the runs start before they train: the streams apps know them (and which
        // runs they watch) by the time the iterations arrive.
        for (int run = 0; run < 4; run++) {
            String runId = String.format("%s-r%05d", ID, run);
            send(producer, Topics.RUNS, Topics.runStartedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS, started(runId, run)));
        }
        producer.flush();
        Thread.sleep(3_000);
        for (int run = 0; run < 4; run++) {
            String runId = String.format("%s-r%05d", ID, run);
            double loss = 100;
            int last = run == 1 ? 30 : ITERATIONS;
            for (int t = 0; t <= last && t < ITERATIONS; t++) {
                double recorded = run == 1 && t == 30 ? Double.NaN : loss;
                send(producer, Topics.ITERATIONS, runId, TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, metrics(runId, t, recorded)));
                if (t % 20 == 0 && run != 1) {
                    send(producer, Topics.SPECTRA, runId, TelemetrySerdes.spectra().serialize(Topics.SPECTRA, spectrum(runId, t)));
                }
                loss += run == 0 && t % 4 == 3 ? 1.0 : -0.1;
            }
            if (run == 1) {
                send(producer, Topics.RUNS, Topics.runFinishedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                        finished(runId, RunStatus.DIVERGED, 31, null)));
            } else if (run > 1) {
                send(producer, Topics.RUNS, Topics.runFinishedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                        finished(runId, RunStatus.COMPLETED, ITERATIONS, loss)));
            }
        }
        producer.flush();
    }

    private static IterationMetrics metrics(String runId, int t, double loss) {
        return IterationMetrics.newBuilder().setRunId(runId).setExperimentId(ID).setIteration(t)
                .setTimestampMillis(System.currentTimeMillis()).setLoss(loss).setMinibatchLoss(loss).setStepSize(0.1)
                .setBatchSize(5).setSgNorm(1.2).setSgCosPrev(t == 0 ? null : 0.25).setTrainAccuracy(0.5)
                .setGradNormSq(1.0).setTraceM(2.0).setTraceSigma(1.0).setSigmaFrobenius(0.5).setSigmaSpectral(0.5)
                .setSigmaHalfMuNorm(0.1).setHessianSpectralNorm(1.0).setProbeSeconds(0.001).setParamDistance(0.01 * t).build();
    }

    private static SpectrumSnapshot spectrum(String runId, int t) {
        return SpectrumSnapshot.newBuilder().setRunId(runId).setExperimentId(ID).setIteration(t)
                .setTimestampMillis(System.currentTimeMillis()).setPrecision("float64").setTopK(2)
                .setHessianEigenvalues(List.of(1.0, 0.5)).setHessianResiduals(List.of(1e-12, 1e-12))
                .setSecondMomentEigenvalues(List.of(1.5, 0.4)).setSecondMomentResiduals(List.of(1e-12, 1e-12))
                .setPredictionHessianEigenvalues(List.of(0.6, 0.1)).setPredictionHessianResiduals(List.of(1e-12, 1e-12))
                .setPrincipalAngleCosines(List.of(0.95, 0.6)).setHessianLayerLoadings(List.of(List.of(0.3, 0.7), List.of(0.5, 0.5)))
                .setDavisKahanBounds(List.of(0.1, 0.2, 0.3)).setProbeSeconds(0.01).build();
    }

    private static RunStarted started(String runId, int index) {
        return RunStarted.newBuilder().setRunId(runId).setExperimentId(ID).setRunIndex(index).setSeed(index)
                .setStartedAtMillis(System.currentTimeMillis()).setPlannedIterations(ITERATIONS)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50).setClasses(10)
                        .setRandomLabelFraction(0).setStandardized(true).setSeed(1).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(1150).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64").setBackend("CPU").setVersions(Map.of("sgdscope", "test")).setSettings(Map.of()).build();
    }

    private static RunFinished finished(String runId, RunStatus status, int iterations, Double finalLoss) {
        return RunFinished.newBuilder().setRunId(runId).setExperimentId(ID).setStatus(status).setIterations(iterations)
                .setFinishedAtMillis(System.currentTimeMillis()).setDurationSeconds(1).setFinalLoss(finalLoss)
                .setDroppedRecords(0).setMessage(status == RunStatus.DIVERGED ? "loss became NaN" : null).build();
    }

    private static void send(Producer<String, byte[]> producer, String topic, String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key, value));
    }
}
