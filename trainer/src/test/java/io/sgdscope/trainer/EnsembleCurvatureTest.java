package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.MinibatchSampler;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The block's two ways to the moments and L give the same values: the batched one (Gram matrices and Hessian-vector
 * products of all runs at once, Lanczos in lockstep) against the per-run engine's own code run by run (the path
 * above the Gram limit: NetworkCurvature, GradientMoments.of, SpectrumProbe.hessianSpectralNorm), over successive
 * probes of training runs, so that the warm starts are compared too — with a spectrum every other probe, whose
 * converged Lanczos gives L there and the next L's start (both paths take the spectra from the per-run engine's code,
 * the batched one counting the Lanczos runs for the block). Float64, relative 1e-9.
 */
class EnsembleCurvatureTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final int RUNS = 4;

    @Test
    void theBatchedProbeGivesWhatThePerRunCodeGivesRunByRunProbeAfterProbe() {
        Dataset data = GaussK.generate(new GaussKSettings(80, 50, 10, 0.0, 4L, true));
        TrainerSettings settings = TrainerSettings.builder().runs(RUNS).iterations(40)
                .curvature(CurvatureSettings.off().withMomentsEvery(10).withSpectrumEvery(20).withTopK(4))
                .engine(Engine.ENSEMBLE).build();
        BatchedMlp model = new BatchedMlp(GAUSS_10, Precision.FLOAT64, RUNS);
        long[] seeds = new long[RUNS];
        MinibatchSampler[] samplers = new MinibatchSampler[RUNS];
        for (int r = 0; r < RUNS; r++) {
            seeds[r] = 1000 + r;
            SplittableRandom random = new SplittableRandom(seeds[r]);
            model.setParameters(r, Initialization.HE_NORMAL.draw(GAUSS_10, random.split()));
            samplers[r] = new MinibatchSampler(data.samples(), 5, random.split());
        }
        EnsembleCurvature batched = new EnsembleCurvature(settings, model, data, seeds);
        EnsembleCurvature oneByOne = new EnsembleCurvature(settings, model, data, seeds, 0);   // every n above the limit
        boolean[] probe = {true, true, false, true};                                       // run 2 has ended
        String[] failures = new String[RUNS];
        int[] indices = new int[RUNS * 5];
        int probes = 0;
        for (int t = 0; t < 40; t++) {
            model.evaluate(data, new double[RUNS], null);
            EnsembleCurvature.Columns a = batched.at(t, probe, failures);
            EnsembleCurvature.Columns b = oneByOne.at(t, probe, new String[RUNS]);
            assertEquals(t % 10 == 0, a != null, "probed at t = 0, 10, 20, 30 only");
            if (a != null) {
                probes++;
                for (int r = 0; r < RUNS; r++) {
                    assertNull(failures[r]);
                    assertEquals(!probe[r], a.missing()[r], "run " + r + " missing");
                    assertEquals(!probe[r], b.missing()[r], "run " + r + " missing");
                    if (!probe[r]) {
                        assertTrue(Double.isNaN(a.hessianSpectralNorm()[r]) && Double.isNaN(a.probeSeconds()[r]));
                        continue;
                    }
                    String at = "run " + r + " t = " + t;
                    close(b.gradNormSq()[r], a.gradNormSq()[r], at + " ||mu||^2");
                    close(b.traceM()[r], a.traceM()[r], at + " Tr M");
                    close(b.traceSigma()[r], a.traceSigma()[r], at + " Tr Sigma");
                    close(b.sigmaFrobenius()[r], a.sigmaFrobenius()[r], at + " ||Sigma||_F");
                    close(b.sigmaSpectral()[r], a.sigmaSpectral()[r], at + " ||Sigma||_2");
                    close(b.sigmaHalfMuNorm()[r], a.sigmaHalfMuNorm()[r], at + " ||Sigma^1/2 mu||");
                    close(b.hessianSpectralNorm()[r], a.hessianSpectralNorm()[r], at + " L");
                    assertEquals(t % 20 == 0, batched.snapshot(r) != null, at + ": spectra at t = 0, 20");
                    if (t % 20 == 0) {                          // L is the spectrum's; the next L starts from it
                        var x = oneByOne.snapshot(r);
                        var y = batched.snapshot(r);
                        assertEquals(t, y.getIteration());
                        for (int i = 0; i < 4; i++) {
                            close(x.getHessianEigenvalues().get(i), y.getHessianEigenvalues().get(i), at + " lambda_" + i);
                            close(x.getSecondMomentEigenvalues().get(i), y.getSecondMomentEigenvalues().get(i),
                                    at + " M_t lambda_" + i);
                            close(x.getPrincipalAngleCosines().get(i), y.getPrincipalAngleCosines().get(i), at + " cos_" + i);
                        }
                        close(Math.abs(y.getHessianEigenvalues().get(0)), a.hessianSpectralNorm()[r], at + " L = |lambda_1|");
                        close(x.getEffectiveCurvature(), y.getEffectiveCurvature(), at + " Corollary 4");
                    } else {
                        assertNull(oneByOne.snapshot(r));
                    }
                    assertTrue(a.gradNormSq()[r] > 0 && a.traceM()[r] >= a.gradNormSq()[r], at + ": Tr M >= ||mu||^2");
                    assertTrue(a.probeSeconds()[r] > 0, at + " probe time");
                    assertEquals(a.probeSeconds()[0], a.probeSeconds()[r], at + ": the block's time, shared evenly");
                }
            }
            for (int r = 0; r < RUNS; r++) {
                System.arraycopy(samplers[r].next(), 0, indices, r * 5, 5);
            }
            model.lossAndGradient(data, indices, 5, new double[RUNS]);
            model.step(0.1);
        }
        assertEquals(4, probes);
        oneByOne.close();
        batched.close();
    }

    private static void close(double expected, double actual, String what) {
        assertTrue(Double.isFinite(expected) && Math.abs(expected - actual) <= 1e-9 * Math.abs(expected),
                what + ": per-run code " + expected + ", batched " + actual);
    }
}
