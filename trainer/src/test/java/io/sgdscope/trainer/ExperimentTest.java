package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.TelemetryException;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.PlainJavaMlp;
import io.sgdscope.trainer.optim.MinibatchSampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Experiments on the retired per-run engine ({@link PerRunEngine}, the reference of the ensemble engine), whose
 * steps a {@link StepObserver} can look at: SGD against plain Java, the records' values, endings, workers. Run through
 * {@link Experiment}'s orchestration, which the ensemble engine shares (its own endings: ExperimentEnginesTest).
 */
class ExperimentTest {

    private static final Dataset GAUSS_10 = GaussK.generate(GaussKSettings.GAUSS_10);
    private static final double[][] X = GAUSS_10.features().toDoubleMatrix();
    private static final List<Integer> LAYERS = List.of(50, 10, 30, 10);

    /** Keeps a copy of theta_t and g_t of every step of every run. */
    private static final class Recorder implements StepObserver {
        final Map<String, List<double[]>> thetas = new ConcurrentHashMap<>();
        final Map<String, List<double[]>> gradients = new ConcurrentHashMap<>();

        @Override
        public void step(String runId, int iteration, INDArray theta, INDArray gradient) {
            thetas.computeIfAbsent(runId, id -> new ArrayList<>()).add(theta.toDoubleVector());
            gradients.computeIfAbsent(runId, id -> new ArrayList<>()).add(gradient.toDoubleVector());
        }
    }

    private static TrainerSettings.Builder small() {
        return TrainerSettings.builder().experimentId("test").runs(3).iterations(30).workers(2)
                .curvature(CurvatureSettings.off());
    }

    @Test
    void publishedRecordsEqualIndependentRecomputationsAtEachThetaT() {
        TrainerSettings settings = small().build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Recorder recorder = new Recorder();
        ExperimentResult result = PerRunEngine.experiment(settings, GAUSS_10, sink, ExperimentListener.none(), recorder).run();
        assertEquals(3, result.count(RunStatus.COMPLETED));

        MlpArchitecture architecture = new MlpArchitecture(LAYERS);
        for (int r = 0; r < 3; r++) {
            String runId = Experiment.runId("test", r);
            List<IterationMetrics> records = sink.iterations(runId);
            List<double[]> thetas = recorder.thetas.get(runId);
            List<double[]> gradients = recorder.gradients.get(runId);
            assertEquals(30, records.size());

            // Replaying the seed: theta_0 and the minibatches come from the run seed's two streams.
            SplittableRandom runRandom = new SplittableRandom(Experiment.runSeed(settings.baseSeed(), r));
            assertArrayEquals(Initialization.HE_NORMAL.draw(architecture, runRandom.split()), thetas.get(0), 0.0);
            MinibatchSampler sampler = new MinibatchSampler(100, 5, runRandom.split());

            for (int t = 0; t < 30; t++) {
                IterationMetrics record = records.get(t);
                double[] theta = thetas.get(t);
                double[] g = gradients.get(t);
                assertEquals(t, record.getIteration());
                double loss = PlainJavaMlp.loss(LAYERS, theta, X, GAUSS_10.labels());
                assertEquals(loss, record.getLoss(), 1e-12 * loss, "f(theta_t) at t = " + t);
                assertEquals(PlainJavaMlp.accuracy(LAYERS, theta, X, GAUSS_10.labels()), record.getTrainAccuracy(), 0.0);
                double minibatchLoss = PlainJavaMlp.loss(LAYERS, theta, X, GAUSS_10.labels(), sampler.next());
                assertEquals(minibatchLoss, record.getMinibatchLoss(), 1e-12 * minibatchLoss);
                assertEquals(norm(g), record.getSgNorm(), 1e-12 * norm(g), "||g_t|| at t = " + t);
                if (t == 0) {
                    assertNull(record.getSgCosPrev());
                } else {
                    double[] previous = gradients.get(t - 1);
                    double cosine = dot(g, previous) / (norm(g) * norm(previous));
                    assertEquals(cosine, record.getSgCosPrev(), 1e-12, "cos(g_t, g_t-1) at t = " + t);
                }
                assertEquals(0.1, record.getStepSize());
                assertEquals(5, record.getBatchSize());
                assertNull(record.getGradNormSq());
                assertNull(record.getHessianSpectralNorm());
                if (t + 1 < 30) {
                    // theta_{t+1} = theta_t - eta g_t (Eq. 8), computed here.
                    double[] next = thetas.get(t + 1);
                    for (int i = 0; i < theta.length; i++) {
                        assertEquals(theta[i] - 0.1 * g[i], next[i], 1e-15, "theta_" + (t + 1) + "[" + i + "]");
                    }
                }
            }
            double[] thetaT = thetas.get(29).clone();
            for (int i = 0; i < thetaT.length; i++) {
                thetaT[i] -= 0.1 * gradients.get(29)[i];
            }
            RunFinished finished = sink.finished(runId).orElseThrow();
            double finalLoss = PlainJavaMlp.loss(LAYERS, thetaT, X, GAUSS_10.labels());
            assertEquals(RunStatus.COMPLETED, finished.getStatus());
            assertEquals(finalLoss, finished.getFinalLoss(), 1e-12 * finalLoss);
            assertEquals(30, finished.getIterations());
            assertEquals(0, finished.getDroppedRecords());
            assertNull(finished.getMessage());
        }
    }

    @Test
    void runStartedCarriesTheFullProvenance() {
        TrainerSettings settings = small().runs(1).iterations(2).baseSeed(42).engine(Engine.PER_RUN).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings, sink, ExperimentListener.none()).run();
        RunStarted started = sink.runsStarted().get(0);
        assertEquals("test-r00000", started.getRunId());
        assertEquals("test", started.getExperimentId());
        assertEquals(0, started.getRunIndex());
        assertEquals(Experiment.runSeed(42, 0), started.getSeed());
        assertEquals(2, started.getPlannedIterations());
        assertEquals("gauss-k", started.getDataset().getName());
        assertEquals(100, started.getDataset().getSamples());
        assertEquals(50, started.getDataset().getInputDimension());
        assertEquals(10, started.getDataset().getClasses());
        assertTrue(started.getDataset().getStandardized());
        assertEquals(1L, started.getDataset().getSeed());
        assertEquals(LAYERS, started.getModel().getLayers());
        assertEquals(1150L, started.getModel().getParameterCount());
        assertEquals("he-normal", started.getModel().getInitialization());
        assertEquals("relu", started.getModel().getActivation());
        assertEquals("softmax_cross_entropy", started.getModel().getLoss());
        assertEquals("sgd", started.getOptimizer().getName());
        assertEquals(0.1, started.getOptimizer().getLearningRate());
        assertEquals(5, started.getOptimizer().getBatchSize());
        assertEquals("with-replacement", started.getOptimizer().getSampling());
        assertEquals("float64", started.getPrecision());
        assertEquals("CPU", started.getBackend());
        assertEquals(Set.of("sgdscope", "nd4j", "kafka-clients", "java"), started.getVersions().keySet());
        assertEquals("1.0.0-M2.1", started.getVersions().get("nd4j"));
        assertFalse(started.getVersions().get("sgdscope").contains("${"), "version resource was not filtered");
        assertEquals(settings.asMap(), started.getSettings());
    }

    @Test
    void standardisedGauss10TrainingWithTheDefaultsLearns() {
        TrainerSettings settings = TrainerSettings.builder().runs(20).build();   // 400 iterations, m = 5, eta = 0.1
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(settings, GAUSS_10, sink, ExperimentListener.none(), StepObserver.none()).run();
        assertEquals(20, result.count(RunStatus.COMPLETED));
        double[] initial = new double[20];
        double[] last = new double[20];
        for (int r = 0; r < 20; r++) {
            List<IterationMetrics> records = sink.iterations(Experiment.runId(settings.experimentId(), r));
            assertEquals(400, records.size());
            initial[r] = records.get(0).getLoss();
            last[r] = result.runs().get(r).finalLoss();                           // f(theta_400)
        }
        // docs/pitfalls.md: median 2.98 at t = 0 and 0.0019 at t = 400 over 200 runs; chance is ln 10 = 2.30.
        assertTrue(median(initial) > 1.0, "median initial loss " + median(initial));
        assertTrue(median(last) < 0.05, "median loss at t = 400 is " + median(last) + ", not far below ln 10");
    }

    @Test
    void aDivergingRunEndsDivergedWithItsLastRecordPublishedWhileTheOthersComplete() {
        // Run 1's parameters are blown up after its update at t = 4, so f(theta_5) overflows.
        StepObserver blowUp = (runId, t, theta, gradient) -> {
            if (runId.equals("test-r00001") && t == 4) {
                theta.muli(1e200);
            }
        };
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(small().build(), GAUSS_10, sink, ExperimentListener.none(), blowUp).run();

        RunFinished diverged = sink.finished("test-r00001").orElseThrow();
        assertEquals(RunStatus.DIVERGED, diverged.getStatus());
        List<IterationMetrics> records = sink.iterations("test-r00001");
        assertEquals(6, records.size());
        assertEquals(6, diverged.getIterations());
        assertFalse(Double.isFinite(records.get(5).getLoss()), "the diverging iteration's record is published");
        assertTrue(diverged.getMessage().contains("t = 5"), diverged.getMessage());
        assertEquals(RunStatus.COMPLETED, sink.finished("test-r00000").orElseThrow().getStatus());
        assertEquals(RunStatus.COMPLETED, sink.finished("test-r00002").orElseThrow().getStatus());
        assertEquals(30, sink.iterations("test-r00002").size());
        assertEquals(1, result.count(RunStatus.DIVERGED));
    }

    @Test
    void withAHugeLearningRateSomeRunsDivergeAndTheOthersStillComplete() {
        // eta = 1e8: runs whose units all die stay finite (the loss is computed stably), the others
        // blow up within a few steps. Which is which is fixed by the seeds.
        TrainerSettings settings = small().runs(12).iterations(100).learningRate(1e8).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(settings, GAUSS_10, sink, ExperimentListener.none(),
                StepObserver.none()).run();
        assertTrue(result.count(RunStatus.DIVERGED) >= 1, "no run diverged");
        assertTrue(result.count(RunStatus.COMPLETED) >= 1, "no run completed");
        assertEquals(12, result.count(RunStatus.DIVERGED) + result.count(RunStatus.COMPLETED));
        for (RunFinished finished : sink.runsFinished()) {
            List<IterationMetrics> records = sink.iterations(finished.getRunId());
            assertEquals(finished.getIterations(), records.size());
            IterationMetrics last = records.get(records.size() - 1);
            boolean lastIsFinite = Double.isFinite(last.getLoss()) && Double.isFinite(last.getMinibatchLoss())
                    && Double.isFinite(last.getSgNorm());
            if (finished.getStatus() == RunStatus.DIVERGED) {
                assertFalse(lastIsFinite, "the diverging iteration's record is published: " + last);
                assertTrue(records.size() < 100);
                for (IterationMetrics earlier : records.subList(0, records.size() - 1)) {
                    assertTrue(Double.isFinite(earlier.getLoss()) && Double.isFinite(earlier.getSgNorm()));
                }
            } else {
                assertEquals(100, records.size());
                assertTrue(lastIsFinite);
            }
        }
    }

    @Test
    void cancelStopsRunsAtTheNextIterationBoundaryAndStartsNoMore() {
        Experiment[] experiment = new Experiment[1];
        ExperimentListener cancelAtTen = new ExperimentListener() {
            @Override
            public void iterationDone(IterationMetrics record) {
                if (record.getIteration() == 10) {
                    experiment[0].cancel();
                }
            }
        };
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        experiment[0] = PerRunEngine.experiment(small().runs(5).workers(1).build(), GAUSS_10, sink, cancelAtTen, StepObserver.none());
        ExperimentResult result = experiment[0].run();

        assertEquals(1, result.runs().size());
        assertEquals(4, result.notStarted());
        RunFinished finished = sink.finished("test-r00000").orElseThrow();
        assertEquals(RunStatus.CANCELLED, finished.getStatus());
        assertEquals(11, finished.getIterations());
        assertEquals(11, sink.iterations("test-r00000").size());
        assertNotNull(finished.getFinalLoss());
        assertEquals(1, sink.runsStarted().size());
    }

    @Test
    void anExceptionInARunEndsItFailedAndTheOtherRunsGoOn() {
        ExperimentListener failing = new ExperimentListener() {
            @Override
            public void iterationDone(IterationMetrics record) {
                if (record.getRunId().equals("test-r00002") && record.getIteration() == 3) {
                    throw new IllegalStateException("boom");
                }
            }
        };
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(small().build(), GAUSS_10, sink, failing, StepObserver.none()).run();
        RunFinished failed = sink.finished("test-r00002").orElseThrow();
        assertEquals(RunStatus.FAILED, failed.getStatus());
        assertTrue(failed.getMessage().contains("boom"), failed.getMessage());
        assertNull(failed.getFinalLoss());
        assertEquals(2, result.count(RunStatus.COMPLETED));
    }

    @Test
    void aRunWhoseStartFailsAfterRunStartedWasPublishedStillPublishesItsRunFinished() {
        ExperimentListener failingOnStart = new ExperimentListener() {
            @Override
            public void runStarted(RunStarted record) {
                if (record.getRunIndex() == 1) {
                    throw new IllegalStateException("display broke");
                }
            }
        };
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(small().build(), GAUSS_10, sink, failingOnStart, StepObserver.none()).run();
        assertEquals(3, sink.runsStarted().size());
        assertEquals(3, sink.runsFinished().size());
        RunFinished failed = sink.finished("test-r00001").orElseThrow();
        assertEquals(RunStatus.FAILED, failed.getStatus());
        assertEquals(0, failed.getIterations());
        assertTrue(sink.iterations("test-r00001").isEmpty());
    }

    @Test
    void resultsDoNotDependOnTheNumberOfWorkers() {
        InMemoryTelemetrySink one = new InMemoryTelemetrySink();
        InMemoryTelemetrySink two = new InMemoryTelemetrySink();
        PerRunEngine.experiment(small().runs(4).workers(1).build(), GAUSS_10, one, ExperimentListener.none(), StepObserver.none()).run();
        PerRunEngine.experiment(small().runs(4).workers(2).build(), GAUSS_10, two, ExperimentListener.none(), StepObserver.none()).run();
        for (int r = 0; r < 4; r++) {
            String runId = Experiment.runId("test", r);
            assertArrayEquals(losses(one.iterations(runId)), losses(two.iterations(runId)), 0.0);
        }
    }

    @Test
    void aSinkThatCannotTakeRunRecordsStopsTheExperiment() {
        InMemoryTelemetrySink broken = new InMemoryTelemetrySink();
        TelemetrySink failing = new TelemetrySink() {
            @Override
            public void runStarted(RunStarted record) {
                throw new TelemetryException("no broker");
            }

            @Override
            public void iteration(IterationMetrics record) {
                broken.iteration(record);
            }

            @Override
            public void runFinished(RunFinished record) {
                broken.runFinished(record);
            }
        };
        Experiment experiment = PerRunEngine.experiment(small().runs(10).build(), GAUSS_10, failing, ExperimentListener.none(),
                StepObserver.none());
        TelemetryException e = assertThrows(TelemetryException.class, experiment::run);
        assertEquals("no broker", e.getMessage());
        assertTrue(experiment.isCancelled());
    }

    @Test
    void runIdsArePaddedToFiveDigitsAndRunSeedsDifferAndRepeat() {
        assertEquals("gauss10-r00007", Experiment.runId("gauss10", 7));
        assertEquals("gauss10-r99999", Experiment.runId("gauss10", 99_999));
        Set<Long> seeds = new HashSet<>();
        for (int r = 0; r < TrainerSettings.MAX_RUNS; r++) {
            seeds.add(Experiment.runSeed(1, r));
        }
        assertEquals(TrainerSettings.MAX_RUNS, seeds.size());
        assertEquals(Experiment.runSeed(1, 5), Experiment.runSeed(1, 5));
        assertFalse(Experiment.runSeed(1, 5) == Experiment.runSeed(2, 5));
    }

    private static double[] losses(List<IterationMetrics> records) {
        return records.stream().mapToDouble(IterationMetrics::getLoss).toArray();
    }

    private static double norm(double[] v) {
        return Math.sqrt(dot(v, v));
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
