package io.sgdscope.dl4j.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.DenseCurvature;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The probes on the DL4J Gauss-10 net (p = 1150, n = 100, float64) against the trainer's exact curvature
 * code on the same parameters: its moments (Gram identities on exact per-sample signals), its dense H_f and
 * M_t (p exact R-operator and J^T J products, LAPACK's eigensolver), and its own SpectrumProbe run to
 * 1e-10 residuals for the principal angles.
 */
class CurvatureProbeTest {

    private static final int K = 8;
    private static Gauss10Networks.Fixture fixture;
    private static GradientMoments expectedMoments;
    private static double[] hessianSpectrum;           // ascending
    private static double[] secondMomentSpectrum;      // ascending
    private static Spectra trainerSpectra;
    private static ProbeSpectrum spectrum;

    @BeforeAll
    static void references() {
        fixture = Gauss10Networks.trained(40, 21L);
        try (NetworkCurvature net = fixture.trainerCurvature()) {
            expectedMoments = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
            hessianSpectrum = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.hessian()));
            secondMomentSpectrum = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.secondMoment()));
            trainerSpectra = new SpectrumProbe(K, new Lanczos.Settings(400, 1e-10, 10), false, 3L).measure(net);
        }
        spectrum = new CurvatureProbe(fixture.net(), ProbeSettings.defaults().withTopK(K)
                .withLanczos(new Lanczos.Settings(300, 1e-8, 10))).spectrum(fixture.features(), fixture.oneHot());
    }

    @Test
    void momentsFromDl4jsPerExampleGradientsEqualTheTrainersExactMoments() {
        ProbeMoments m = new CurvatureProbe(fixture.net(), ProbeSettings.defaults().withTopK(K))
                .moments(fixture.features(), fixture.oneHot());
        close("gradNormSq", expectedMoments.gradNormSq(), m.gradNormSq(), 1e-9);
        close("traceM", expectedMoments.traceM(), m.traceM(), 1e-9);
        close("traceSigma", expectedMoments.traceSigma(), m.traceSigma(), 1e-9);
        close("sigmaFrobenius", expectedMoments.sigmaFrobenius(), m.sigmaFrobenius(), 1e-9);
        close("sigmaSpectral", expectedMoments.sigmaSpectral(), m.sigmaSpectral(), 1e-9);
        close("sigmaHalfMuNorm", expectedMoments.sigmaHalfMuNorm(), m.sigmaHalfMuNorm(), 1e-9);
        try (NetworkCurvature net = fixture.trainerCurvature()) {
            close("loss", net.loss(), m.loss(), 1e-12);
        }
        assertEquals(100, m.samples());
        assertEquals(100, m.products().exampleGradients());
        // L from 8 cold Lanczos steps: Ritz values lie inside the spectrum, so never above the dense L.
        double l = denseSpectralNorm();
        assertTrue(m.hessianSpectralNorm() <= l * (1 + 1e-6) && m.hessianSpectralNorm() > 0.5 * l,
                "L " + m.hessianSpectralNorm() + " against the dense " + l);
        IterationMetrics record = m.applyTo(new IterationMetrics());
        assertEquals(m.sigmaSpectral(), record.getSigmaSpectral(), 0.0);
        assertEquals(m.hessianSpectralNorm(), record.getHessianSpectralNorm(), 0.0);
    }

    @Test
    void topEigenvaluesOfTheFiniteDifferenceHessianAndOfMAreThoseOfTheDenseMatricesWithinTheirErrorBounds() {
        ProbeSpectrum s = spectrum;
        double scale = hessianSpectrum[hessianSpectrum.length - 1];
        StringBuilder report = new StringBuilder();
        for (int j = 0; j < K; j++) {
            double exact = hessianSpectrum[hessianSpectrum.length - 1 - j];
            double found = s.hessianEigenvalues().get(j);
            // Weyl: |lambda_j(H + E) - lambda_j(H)| <= ||E||; the Ritz value is within its residual of the FD operator's
            // eigenvalue; ||E|| is estimated along the top eigenvector (measured: |diff| ~ 1e-9, the estimate ~ 6e-9).
            double bound = s.hessianResiduals().get(j) + s.finiteDifferenceError() + 1e-12 * scale;
            report.append(String.format("H %d: %.12g vs %.12g, |diff| %.3g, bound %.3g%n", j, found, exact,
                    Math.abs(found - exact), bound));
            assertEquals(exact, found, bound, report.toString());
        }
        double mScale = secondMomentSpectrum[secondMomentSpectrum.length - 1];
        for (int j = 0; j < K; j++) {
            double exact = secondMomentSpectrum[secondMomentSpectrum.length - 1 - j];
            double found = s.secondMomentEigenvalues().get(j);
            assertEquals(exact, found, s.secondMomentResiduals().get(j) + 1e-10 * mScale, "M eigenvalue " + j);
        }
        assertEquals(denseSpectralNorm(), s.hessianSpectralNorm(), 1e-6 * denseSpectralNorm());
        assertTrue(s.finiteDifferenceError() < 1e-6 * scale, "finite-difference error " + s.finiteDifferenceError());
    }

    @Test
    void principalAngleCosinesAndResidualEigenvaluesAgreeWithTheTrainersOwnProbe() {
        ProbeSpectrum s = spectrum;
        double[] expected = trainerSpectra.principalAngleCosines();
        StringBuilder report = new StringBuilder();
        for (int j = 0; j < K; j++) {
            report.append(String.format("cos %d: %.10f vs %.10f%n", j, s.principalAngleCosines().get(j), expected[j]));
        }
        for (int j = 0; j < K; j++) {
            assertEquals(expected[j], s.principalAngleCosines().get(j), 1e-5, report.toString());
        }
        double[] residual = trainerSpectra.predictionHessian().values();
        for (int j = 0; j < K; j++) {
            assertEquals(residual[j], s.predictionHessianEigenvalues().get(j),
                    s.predictionHessianResiduals().get(j) + s.finiteDifferenceError() + 1e-12 * Math.abs(residual[0]),
                    "H_p eigenvalue " + j);
        }
    }

    @Test
    void aSecondCallStartsWarmAndCountsItsProducts() {
        CurvatureProbe probe = new CurvatureProbe(fixture.net(), ProbeSettings.defaults().withTopK(K));
        ProbeSpectrum first = probe.spectrum(fixture.features(), fixture.oneHot());
        ProbeSpectrum second = probe.spectrum(fixture.features(), fixture.oneHot());
        ProductCounts a = first.products();
        ProductCounts b = second.products();
        assertTrue(b.hessianProducts() < a.hessianProducts() && b.secondMomentProducts() < a.secondMomentProducts(),
                "warm " + b + " against cold " + a);
        for (ProductCounts c : List.of(a, b)) {
            assertEquals(1 + 2L * (c.hessianProducts() + c.predictionHessianProducts()) + 4, c.batchGradients(), c.toString());
        }
        SpectrumSnapshot record = second.toRecord("run-1", "exp", 7, 123L);
        assertEquals(second.hessianEigenvalues(), record.getHessianEigenvalues());
        assertEquals(second.principalAngleCosines(), record.getPrincipalAngleCosines());
        assertEquals("float64", record.getPrecision());
        assertEquals(K, record.getHessianLayerLoadings().size());
        assertEquals(b.hessianProducts(), record.getHessianMatvecs(), "the warm call's H_f products");
        assertEquals(b.secondMomentProducts(), record.getSecondMomentMatvecs());
        assertEquals(b.predictionHessianProducts(), record.getPredictionHessianMatvecs());
    }

    @Test
    void stepsThatCrossReluKinksAreShrunkSoTheEigenvaluesStayThoseOfTheDenseHessian() {
        // h = 1e-3 crosses some of the 4,000 ReLUs of Gauss-10 in many products (1e-5 almost never does).
        ProbeSettings coarse = new ProbeSettings(4, new Lanczos.Settings(300, 1e-8, 10), 1e-3, 8, 5L);
        ProbeSpectrum s = new CurvatureProbe(fixture.net(), coarse).spectrum(fixture.features(), fixture.oneHot());
        assertTrue(s.products().kinkCrossings() > 0, "no kink was crossed: " + s.products());
        assertEquals(0, s.products().unresolvedCrossings(), s.products().toString());
        // At h = 1e-3 the truncation (h^2 / 6) ||D^3 f|| is about 1e-6 relative (measured 1.1e-6 on the top one);
        // one product across a kink would be off by about 1 / (2 h n) = 5.
        for (int j = 0; j < 4; j++) {
            double exact = hessianSpectrum[hessianSpectrum.length - 1 - j];
            assertEquals(exact, s.hessianEigenvalues().get(j), s.hessianResiduals().get(j) + 1e-5 * exact,
                    "H eigenvalue " + j);
        }
    }

    @Test
    void aProbeSetOfTheWrongShapeIsRefusedWithOneLine() {
        CurvatureProbe probe = new CurvatureProbe(fixture.net(), ProbeSettings.defaults());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> probe.moments(Nd4j.zeros(DataType.DOUBLE, 4, 3), fixture.oneHot()));
        assertEquals("probe features must be [n, 50], got [4, 3]", e.getMessage());
    }

    private static double denseSpectralNorm() {
        return Math.max(Math.abs(hessianSpectrum[0]), Math.abs(hessianSpectrum[hessianSpectrum.length - 1]));
    }

    private static void close(String what, double expected, double actual, double relative) {
        assertEquals(expected, actual, relative * Math.abs(expected), what);
    }
}
