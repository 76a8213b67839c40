package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.PlainJavaGradients;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The four optimizers wired into training: what they do to theta is what the records say (Eq. 8, 35, 36, 39). */
class OptimizersInTrainingTest {

    private static final Dataset GAUSS_10 = GaussK.generate(GaussKSettings.GAUSS_10);
    private static final List<Integer> LAYERS = List.of(50, 10, 30, 10);

    /** theta_t and g_t of every step of every run. */
    private static final class Recorder implements StepObserver {
        final Map<String, List<double[]>> thetas = new ConcurrentHashMap<>();
        final Map<String, List<double[]>> gradients = new ConcurrentHashMap<>();

        @Override
        public void step(String runId, int iteration, INDArray theta, INDArray gradient) {
            thetas.computeIfAbsent(runId, id -> new ArrayList<>()).add(theta.toDoubleVector());
            gradients.computeIfAbsent(runId, id -> new ArrayList<>()).add(gradient.toDoubleVector());
        }
    }

    private static TrainerSettings.Builder settings(String optimizer) {
        return TrainerSettings.builder().experimentId(optimizer).runs(2).iterations(15).workers(2)
                .optimizer(OptimizerSettings.named(optimizer))
                .curvature(CurvatureSettings.off().withMomentsEvery(5));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adaptive", "diagonal", "adam"})
    void eachOptimizerPublishesTheStepItTookAndItsNameInRunStarted(String name) {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Recorder recorder = new Recorder();
        ExperimentResult result = PerRunEngine.experiment(settings(name).build(), GAUSS_10, sink, ExperimentListener.none(), recorder)
                .run();
        assertEquals(2, result.count(RunStatus.COMPLETED));
        String expectedName = Map.of("sgd", "sgd", "adaptive", "adaptive-step", "diagonal", "diagonal-preconditioned",
                "adam", "adam").get(name);
        for (int r = 0; r < 2; r++) {
            String runId = Experiment.runId(name, r);
            assertEquals(expectedName, sink.started(runId).orElseThrow().getOptimizer().getName());
            assertEquals(0.1, sink.started(runId).orElseThrow().getOptimizer().getLearningRate());
            List<IterationMetrics> records = sink.iterations(runId);
            List<double[]> thetas = recorder.thetas.get(runId);
            List<double[]> gradients = recorder.gradients.get(runId);
            boolean adapted = false;
            for (int t = 0; t + 1 < 15; t++) {
                // The step actually taken, from theta_t, theta_{t+1} and g_t alone: ||theta_{t+1} - theta_t|| / ||g_t||.
                double[] move = minus(thetas.get(t + 1), thetas.get(t));
                double taken = norm(move) / norm(gradients.get(t));
                double published = records.get(t).getStepSize();
                assertEquals(taken, published, 1e-12 * taken, name + ": step at t = " + t);
                if (name.equals("sgd")) {
                    assertEquals(0.1, published);
                }
                if (name.equals("sgd") || name.equals("adaptive")) {
                    // A scalar step along -g_t (Eq. 8, 35).
                    for (int j = 0; j < move.length; j++) {
                        assertEquals(-published * gradients.get(t)[j], move[j], 1e-14, name + ": theta_" + (t + 1) + "[" + j + "]");
                    }
                }
                adapted |= Math.abs(published - 0.1) > 1e-6;
            }
            assertTrue(name.equals("sgd") || adapted, name + " never changed its step");
        }
    }

    @Test
    void theAdaptiveStepWithExactMomentsKeepsTheSuperMartingaleConditionAtEveryStep() {
        // Theorem 3: with eta_t inside Eq. 35's interval, -eta ||mu||^2 + (eta^2/2) L Tr M <= 0 (Sec. 5.4).
        TrainerSettings adaptive = settings("adaptive").experimentId("thm3").runs(3).iterations(40)
                .curvature(CurvatureSettings.off().withMomentsEvery(1)).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(adaptive, GAUSS_10, sink, ExperimentListener.none(), StepObserver.none()).run();
        int checked = 0;
        for (int r = 0; r < 3; r++) {
            for (IterationMetrics record : sink.iterations(Experiment.runId("thm3", r))) {
                assertNotNull(record.getGradNormSq(), "moments at every step");
                double eta = record.getStepSize();
                double muSq = record.getGradNormSq();
                double traceM = record.getTraceM();
                double l = record.getHessianSpectralNorm();
                double drift = -eta * muSq + eta * eta / 2 * l * traceM;
                assertTrue(drift <= 0, "t = " + record.getIteration() + ": -eta ||mu||^2 + eta^2 L Tr M / 2 = " + drift);
                // Inside the open interval of Eq. 35, at kappa = 1 its middle: eta = ||mu||^2 / (L Tr M).
                double centre = muSq / (l * traceM);
                assertTrue(eta > centre / 2 && eta < 3 * centre / 2, "eta " + eta + " outside Eq. 35 around " + centre);
                assertEquals(centre, eta, 1e-12 * centre);
                checked++;
            }
        }
        assertEquals(120, checked);
    }

    @Test
    void theDiagonalPreconditionerUsesTheExactMuAndDiagonalOfMWhereTheMomentsAreComputed() {
        Recorder recorder = new Recorder();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings("diagonal").runs(1).iterations(12).build(), GAUSS_10, sink, ExperimentListener.none(),
                recorder).run();
        String runId = Experiment.runId("diagonal", 0);
        double[][] x = GAUSS_10.features().toDoubleMatrix();
        int[] y = GAUSS_10.labels();
        for (int t : new int[] {0, 5, 10}) {
            IterationMetrics record = sink.iterations(runId).get(t);
            double l = record.getHessianSpectralNorm();
            double[] theta = recorder.thetas.get(runId).get(t);
            double[] g = recorder.gradients.get(runId).get(t);
            double[] move = minus(recorder.thetas.get(runId).get(t + 1), theta);
            // mu_j and M_jj from per-sample gradients in plain Java (Eq. 4, 7); a_j = kappa mu_j^2 / (L M_jj) (Eq. 36).
            double[][] samples = PlainJavaGradients.sampleGradients(LAYERS, theta, x, y);
            for (int j = 0; j < theta.length; j++) {
                double mu = 0;
                double m = 0;
                for (double[] sample : samples) {
                    mu += sample[j] / x.length;
                    m += sample[j] * sample[j] / x.length;
                }
                double a = m > 0 ? mu * mu / (l * m) : 0;
                assertEquals(-a * g[j], move[j], 1e-12 * Math.abs(g[j]) + 1e-15, "t = " + t + ", coordinate " + j);
            }
        }
    }

    @Test
    void theoremThreesOptimizersNeedTheCurvatureProbes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settings("adaptive").curvature(CurvatureSettings.off()).build());
        assertEquals("optimizer adaptive needs L = max|eig(H_f)| (Theorem 3): set moments-every or spectrum-every > 0",
                e.getMessage());
        assertEquals("unknown optimizer 'rmsprop' (known: sgd, adaptive, diagonal, adam)",
                assertThrows(IllegalArgumentException.class, () -> OptimizerSettings.named("rmsprop")).getMessage());
        assertEquals("kappa must be in (0.5, 1.5), inside Theorem 3's interval (Eq. 35, 36), got 2.0",
                assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings("adaptive", 2.0, 0.9, 0.9, 0.999,
                        1e-8)).getMessage());
        assertEquals("adam", settings("adam").curvature(CurvatureSettings.off()).build().optimizer().name(),
                "Adam needs no curvature");
    }

    private static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
