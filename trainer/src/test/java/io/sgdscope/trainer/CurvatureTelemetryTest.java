package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.DenseCurvature;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.PlainJavaGradients;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The curvature telemetry a run publishes, at its cadences, against independent recomputations at theta_t. */
class CurvatureTelemetryTest {

    private static final Dataset GAUSS_10 = GaussK.generate(GaussKSettings.GAUSS_10);
    private static final MlpArchitecture NET = MlpArchitecture.of(50, 10, 30, 10);
    private static final int T = 21;
    private static final String RUN = "curv-r00000";

    private static final InMemoryTelemetrySink SINK = new InMemoryTelemetrySink();
    private static final Map<Integer, double[]> THETAS = new ConcurrentHashMap<>();
    private static final Map<Integer, double[]> GRADIENTS = new ConcurrentHashMap<>();
    private static TrainerSettings settings;

    @BeforeAll
    static void train() {
        settings = TrainerSettings.builder().experimentId("curv").runs(1).iterations(T).workers(1)
                .curvature(CurvatureSettings.defaults().withMomentsEvery(5).withSpectrumEvery(10).withTopK(5)).build();
        StepObserver recorder = (runId, t, theta, gradient) -> {
            THETAS.put(t, theta.toDoubleVector());
            GRADIENTS.put(t, gradient.toDoubleVector());
        };
        ExperimentResult result = PerRunEngine.experiment(settings, GAUSS_10, SINK, ExperimentListener.none(), recorder).run();
        assertEquals(1, result.count(RunStatus.COMPLETED));
    }

    @Test
    void momentsArePublishedEveryFiveIterationsAndEqualExplicitSampleGradients() {
        List<IterationMetrics> records = SINK.iterations(RUN);
        assertEquals(T, records.size());
        double[][] x = GAUSS_10.features().toDoubleMatrix();
        for (IterationMetrics record : records) {
            int t = record.getIteration();
            if (t % 5 != 0) {
                assertNull(record.getGradNormSq(), "no moments at t = " + t);
                assertNull(record.getHessianSpectralNorm());
                continue;
            }
            double[][] g = PlainJavaGradients.sampleGradients(NET.layers(), THETAS.get(t), x, GAUSS_10.labels());
            double[] mu = new double[g[0].length];
            double traceM = 0;
            for (double[] row : g) {
                for (int j = 0; j < mu.length; j++) {
                    mu[j] += row[j] / g.length;
                    traceM += row[j] * row[j] / g.length;
                }
            }
            double gradNormSq = 0;
            for (double m : mu) {
                gradNormSq += m * m;
            }
            assertEquals(gradNormSq, record.getGradNormSq(), 1e-10 * gradNormSq, "||mu||^2 at t = " + t);
            assertEquals(traceM, record.getTraceM(), 1e-10 * traceM, "Tr M at t = " + t);
            assertEquals(traceM - gradNormSq, record.getTraceSigma(), 1e-10 * traceM, "Tr Sigma at t = " + t);
            assertTrue(record.getSigmaSpectral() <= record.getTraceSigma() && record.getSigmaSpectral() > 0);
            assertTrue(record.getSigmaFrobenius() >= record.getSigmaSpectral());
            assertNotNull(record.getProbeSeconds());
            // L: exact at spectrum iterations; a few warm-started Lanczos steps in between, never above the true L.
            double exactL = spectralNorm(t);
            double l = record.getHessianSpectralNorm();
            if (t % 10 == 0) {
                assertEquals(exactL, l, 1e-8 * exactL, "L at t = " + t);
            } else {
                assertTrue(l <= exactL * (1 + 1e-9) && l >= 0.99 * exactL, "L at t = " + t + ": " + l + " vs " + exactL);
            }
        }
    }

    @Test
    void spectraArePublishedEveryTenIterationsWithTheDenseTopEigenvaluesAndExactDiagonal() {
        List<SpectrumSnapshot> spectra = SINK.spectra(RUN);
        assertEquals(List.of(0, 10, 20), spectra.stream().map(SpectrumSnapshot::getIteration).toList());
        double sigma = settings.priorSigma();
        for (SpectrumSnapshot snapshot : spectra) {
            int t = snapshot.getIteration();
            INDArray dense = denseHessian(t);
            double[] ascending = DenseCurvature.eigenvalues(dense);
            List<Double> top = snapshot.getHessianEigenvalues();
            assertEquals(5, top.size());
            for (int j = 0; j < 5; j++) {
                double expected = ascending[ascending.length - 1 - j];
                assertEquals(expected, top.get(j), 1e-7 * Math.abs(ascending[ascending.length - 1]), "lambda_" + j);
            }
            assertEquals(5, snapshot.getSecondMomentEigenvalues().size());
            assertEquals(5, snapshot.getPredictionHessianEigenvalues().size());
            assertEquals(5, snapshot.getPrincipalAngleCosines().size());
            assertEquals(3, snapshot.getDavisKahanBounds().size());
            for (List<Double> loading : snapshot.getHessianLayerLoadings()) {
                assertEquals(1.0, loading.stream().mapToDouble(Double::doubleValue).sum(), 1e-12);
            }
            assertNull(snapshot.getHessianFullSpectrum());
            assertEquals("exact", snapshot.getHessianDiagonalMethod());
            double effective = 0;
            for (int j = 0; j < dense.rows(); j++) {
                double h = dense.getDouble(j, j);
                assertEquals(h, snapshot.getHessianDiagonal().get(j), 1e-10 * Math.abs(ascending[ascending.length - 1]));
                if (h > 1 / (sigma * sigma)) {
                    effective += Math.log(h * sigma * sigma);                           // Eq. 52
                }
            }
            assertEquals(effective, snapshot.getEffectiveCurvature(), 1e-8 * Math.max(1, effective));
            assertEquals(distanceSq(THETAS.get(t), THETAS.get(0)) / (sigma * sigma), snapshot.getWeightedFrobenius(),
                    1e-12);
        }
    }

    @Test
    void runFinishedCarriesTheCorollaryFourTermsAtTheFinalTheta() {
        RunFinished finished = SINK.finished(RUN).orElseThrow();
        double sigma = Math.sqrt((2.0 * 10 + 2.0 * 30 + 2.0 * 10) / 1150);            // he-normal RMS scale
        assertEquals(sigma, finished.getPriorSigma(), 1e-15);
        double[] thetaT = THETAS.get(T - 1).clone();
        for (int j = 0; j < thetaT.length; j++) {
            thetaT[j] -= 0.1 * GRADIENTS.get(T - 1)[j];
        }
        double weighted = distanceSq(thetaT, THETAS.get(0)) / (sigma * sigma);
        assertEquals(weighted, finished.getWeightedFrobenius(), 1e-9 * weighted);
        assertEquals("exact", finished.getHessianDiagonalMethod());
        double n = 100;
        double bound = (finished.getEffectiveCurvature() + weighted) / (2 * n) + Math.log((n + 1) / 0.05) / n;
        assertEquals(bound, finished.getGeneralizationBound(), 1e-12);
        INDArray dense = denseHessian(thetaT);
        double effective = 0;
        for (int j = 0; j < dense.rows(); j++) {
            double h = dense.getDouble(j, j);
            effective += h > 1 / (sigma * sigma) ? Math.log(h * sigma * sigma) : 0;
        }
        assertEquals(effective, finished.getEffectiveCurvature(), 1e-8 * Math.max(1, effective));
    }

    private static INDArray denseHessian(int t) {
        return denseHessian(THETAS.get(t));
    }

    private static INDArray denseHessian(double[] theta) {
        try (NetworkCurvature net = NetworkCurvature.classifier(NET, Nd4j.createFromArray(theta),
                GAUSS_10.features(), GAUSS_10.labels(), DataType.DOUBLE)) {
            return DenseCurvature.matrix(net.hessian());
        }
    }

    private static double spectralNorm(int t) {
        double[] values = DenseCurvature.eigenvalues(denseHessian(t));
        return Math.max(Math.abs(values[0]), Math.abs(values[values.length - 1]));
    }

    private static double distanceSq(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += (a[j] - b[j]) * (a[j] - b[j]);
        }
        return s;
    }
}
