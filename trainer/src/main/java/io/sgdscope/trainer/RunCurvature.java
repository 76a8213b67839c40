package io.sgdscope.trainer;

import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.optim.FullBatchStatistics;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The curvature telemetry of a run (Sec. 4, 5.2, 6), computed at theta_t in the model's
 * precision from the full training set, exactly: the moments of Eq. 4-7 and L every
 * {@code momentsEvery} iterations ({@link Measured}), a SpectrumSnapshot every {@code spectrumEvery}
 * ({@link #snapshot}), and the Corollary 4 terms at theta_T ({@link #finalTerms}). The ensemble engine computes
 * them block by block ({@link EnsembleCurvature}, {@link EnsembleSpectra}); the retired per-run engine's probe of
 * one run, its reference, is {@code PerRunCurvature} in the tests.
 *
 * <p><b>How L stays fresh.</b> At a spectrum iteration L = max(|top|, |bottom|) Ritz value of that
 * snapshot's converged Lanczos run on H_f. At the other moments iterations it is re-estimated with
 * {@value #SPECTRAL_NORM_STEPS} Lanczos steps started from the last top and bottom eigenvectors of
 * H_f (exact products; a lower bound of max |lambda| that converges quickly while theta moves little
 * between iterations). So every IterationMetrics that carries the moments also carries an L of its
 * own theta_t, which the deviation checks of Theorem 1 need together.
 */
final class RunCurvature {

    /** Lanczos steps for L between spectrum snapshots. */
    static final int SPECTRAL_NORM_STEPS = 8;

    /** Lanczos for the snapshots: up to 300 steps, stop when the top-k residuals are below 1e-5 max |lambda| (eigenvalues then to ~1e-10 relative). */
    static final Lanczos.Settings SNAPSHOT_LANCZOS = new Lanczos.Settings(300, 1e-5, 10);

    /** The diagonal goes into SpectrumSnapshot only up to this p (p doubles must fit a Kafka request). */
    static final int MAX_PUBLISHED_DIAGONAL = 65_536;

    private RunCurvature() {}

    /**
     * What was computed at one iteration; fields are null when not computed.
     *
     * @param moments              the moments of Eq. 4-7 (moments iterations)
     * @param hessianSpectralNorm  L at theta_t, for the record: set with the moments
     * @param probeSeconds         time of the moments and L
     * @param spectrum             the snapshot (spectrum iterations)
     * @param spectralNorm         L at theta_t whenever it was computed (moments or spectrum iterations)
     * @param fullGradient         mu_t (Eq. 4), a copy, when the moments were computed with the diagonals
     * @param secondMomentDiagonal diag(M_t) (Eq. 7), when the moments were computed with the diagonals
     */
    record Measured(GradientMoments moments, Double hessianSpectralNorm, Double probeSeconds, SpectrumSnapshot spectrum,
                    Double spectralNorm, INDArray fullGradient, INDArray secondMomentDiagonal) {
        static final Measured NOTHING = new Measured(null, null, null, null, null, null, null);

        /**
         * The exact quantities at theta_t for an optimizer (Thm 3): the moments, mu_t and diag(M_t) when computed
         * here, L from here or else the latest known ({@code latestL}, NaN if none yet).
         */
        FullBatchStatistics statistics(double latestL) {
            double l = spectralNorm != null ? spectralNorm : latestL;
            if (moments == null) {
                return Double.isNaN(l) ? FullBatchStatistics.NONE : FullBatchStatistics.withL(l);
            }
            return new FullBatchStatistics(moments.gradNormSq(), moments.traceM(), l, fullGradient, secondMomentDiagonal);
        }
    }

    /**
     * The Corollary 4 terms at the network's theta (a run's theta_T), with diag(H_f) exact and the run's theta_0
     * as the prior mean; in the network's precision. Both engines' RunFinished take them from here.
     */
    static GeneralizationTerms finalTerms(TrainerSettings trainer, INDArray theta0, NetworkCurvature net) {
        return GeneralizationTerms.of(net.hessianDiagonal(), net.parameters(), theta0, trainer.priorSigma(),
                net.samples(), trainer.curvature().boundDelta());
    }

    /**
     * The SpectrumSnapshot of run {@code runId} at iteration t from its {@link Spectra} at the network's theta_t: with
     * diag(H_f) (exact) and the Corollary 4 terms at theta_t ({@code theta0}: the run's theta_0, the prior mean).
     * Both engines build their snapshots here; {@code start} (System.nanoTime) dates probeSeconds.
     */
    static SpectrumSnapshot snapshot(TrainerSettings trainer, String runId, INDArray theta0, int t, NetworkCurvature net,
                                     Spectra spectra, long start) {
        CurvatureSettings settings = trainer.curvature();
        double priorSigma = trainer.priorSigma();
        INDArray diagonal = net.hessianDiagonal();                                    // exact, see NetworkCurvature
        GeneralizationTerms terms = GeneralizationTerms.of(diagonal, net.parameters(), theta0, priorSigma, net.samples(),
                settings.boundDelta());                                               // Corollary 4
        boolean publishDiagonal = net.parameterCount() <= MAX_PUBLISHED_DIAGONAL;
        double seconds = (System.nanoTime() - start) / 1e9;
        return SpectrumSnapshot.newBuilder()
                .setRunId(runId)
                .setExperimentId(trainer.experimentId())
                .setIteration(t)
                .setTimestampMillis(System.currentTimeMillis())
                .setPrecision(trainer.precision().id())
                .setTopK(settings.topK())
                .setHessianEigenvalues(list(spectra.hessian().values()))
                .setHessianResiduals(list(spectra.hessian().residuals()))
                .setSecondMomentEigenvalues(list(spectra.secondMoment().values()))
                .setSecondMomentResiduals(list(spectra.secondMoment().residuals()))
                .setPredictionHessianEigenvalues(list(spectra.predictionHessian().values()))
                .setPredictionHessianResiduals(list(spectra.predictionHessian().residuals()))
                .setPrincipalAngleCosines(list(spectra.principalAngleCosines()))
                .setHessianLayerLoadings(loadings(spectra.hessianLayerLoadings()))
                .setDavisKahanBounds(list(spectra.davisKahanBounds()))
                .setHessianFullSpectrum(spectra.hessianFullSpectrum() == null ? null : list(spectra.hessianFullSpectrum()))
                .setSecondMomentFullSpectrum(spectra.secondMomentFullSpectrum() == null ? null
                        : list(spectra.secondMomentFullSpectrum()))
                .setProbeSeconds(seconds)
                .setHessianDiagonal(publishDiagonal ? list(diagonal.toDoubleVector()) : null)
                .setHessianDiagonalMethod(publishDiagonal ? "exact" : null)
                .setPriorSigma(priorSigma)
                .setEffectiveCurvature(terms.effectiveCurvature())
                .setWeightedFrobenius(terms.weightedFrobenius())
                .setGeneralizationBound(terms.bound())
                .setHessianMatvecs(spectra.hessian().steps())                     // one product per Lanczos step
                .setSecondMomentMatvecs(spectra.secondMoment().steps())
                .setPredictionHessianMatvecs(spectra.predictionHessian().steps())
                .build();
    }

    static List<Double> list(double[] values) {
        List<Double> list = new ArrayList<>(values.length);
        for (double value : values) {
            list.add(value);
        }
        return list;
    }

    private static List<List<Double>> loadings(double[][] rows) {
        List<List<Double>> list = new ArrayList<>(rows.length);
        for (double[] row : rows) {
            list.add(list(row));
        }
        return list;
    }
}
