package io.sgdscope.dl4j.curvature;

import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.List;

/**
 * The spectral picture of a DL4J network at theta_t on a probe set, under the names of the
 * SpectrumSnapshot fields it fills (see {@code docs/quantities.md}), plus what it cost and how exact
 * the finite differences were. float64; lists are immutable.
 *
 * @param topK                    k
 * @param hessianEigenvalues      top-k eigenvalues of H_f (Eq. 6), largest first
 * @param hessianResiduals        their Ritz residual norms (of the finite-difference operator)
 * @param secondMomentEigenvalues top-k eigenvalues of M_t (Eq. 7)
 * @param secondMomentResiduals   their residuals
 * @param predictionHessianEigenvalues top-k eigenvalues of H_p = M_t - H_f (Eq. 12)
 * @param predictionHessianResiduals   their residuals
 * @param principalAngleCosines   singular values of U^T V, U and V the top-k eigenvectors of H_f and M_t (Eq. 13)
 * @param hessianLayerLoadings    per top eigenvector of H_f, the share of its squared norm per layer (Sec. 4.4)
 * @param davisKahanBounds        Eq. 59 for s = 1, 2, 3 (first term: no dense H_p)
 * @param hessianSpectralNorm     L = max |lambda(H_f)| from the top and bottom Ritz values
 * @param probeSeconds            wall time of the call
 * @param finiteDifferenceStep    h of the central differences
 * @param finiteDifferenceError   {@link FiniteDifferenceHessian#errorEstimate} along the top eigenvector of H_f
 * @param products                what the call cost
 */
public record ProbeSpectrum(int topK, List<Double> hessianEigenvalues, List<Double> hessianResiduals,
                            List<Double> secondMomentEigenvalues, List<Double> secondMomentResiduals,
                            List<Double> predictionHessianEigenvalues, List<Double> predictionHessianResiduals,
                            List<Double> principalAngleCosines, List<List<Double>> hessianLayerLoadings,
                            List<Double> davisKahanBounds, double hessianSpectralNorm, double probeSeconds,
                            double finiteDifferenceStep, double finiteDifferenceError, ProductCounts products) {

    /** The precision every value was computed in. */
    public static final String PRECISION = "float64";

    public ProbeSpectrum {
        hessianEigenvalues = List.copyOf(hessianEigenvalues);
        hessianResiduals = List.copyOf(hessianResiduals);
        secondMomentEigenvalues = List.copyOf(secondMomentEigenvalues);
        secondMomentResiduals = List.copyOf(secondMomentResiduals);
        predictionHessianEigenvalues = List.copyOf(predictionHessianEigenvalues);
        predictionHessianResiduals = List.copyOf(predictionHessianResiduals);
        principalAngleCosines = List.copyOf(principalAngleCosines);
        hessianLayerLoadings = hessianLayerLoadings.stream().map(List::copyOf).toList();
        davisKahanBounds = List.copyOf(davisKahanBounds);
    }

    /**
     * The SpectrumSnapshot of run {@code runId} at iteration t (no diagonal, no full spectra, no Corollary 4 terms), with
     * the operator products this call's Lanczos runs took as its matvec counts.
     */
    public SpectrumSnapshot toRecord(String runId, String experimentId, int iteration, long timestampMillis) {
        return SpectrumSnapshot.newBuilder()
                .setRunId(runId)
                .setExperimentId(experimentId)
                .setIteration(iteration)
                .setTimestampMillis(timestampMillis)
                .setPrecision(PRECISION)
                .setTopK(topK)
                .setHessianEigenvalues(hessianEigenvalues)
                .setHessianResiduals(hessianResiduals)
                .setSecondMomentEigenvalues(secondMomentEigenvalues)
                .setSecondMomentResiduals(secondMomentResiduals)
                .setPredictionHessianEigenvalues(predictionHessianEigenvalues)
                .setPredictionHessianResiduals(predictionHessianResiduals)
                .setPrincipalAngleCosines(principalAngleCosines)
                .setHessianLayerLoadings(hessianLayerLoadings)
                .setDavisKahanBounds(davisKahanBounds)
                .setProbeSeconds(probeSeconds)
                .setHessianMatvecs(products.hessianProducts())          // the Lanczos steps of each operator
                .setSecondMomentMatvecs(products.secondMomentProducts())
                .setPredictionHessianMatvecs(products.predictionHessianProducts())
                .build();
    }
}
