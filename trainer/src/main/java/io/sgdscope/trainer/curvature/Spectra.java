package io.sgdscope.trainer.curvature;

/**
 * The spectral picture of one snapshot at theta_t (Sec. 4, Fig. 1-4, 7; App. B.2).
 *
 * @param hessian               top-k eigenpairs of H_f (Eq. 6), with its smallest Ritz pair
 * @param secondMoment          top-k eigenpairs of M_t (Eq. 7)
 * @param predictionHessian     top-k eigenpairs of H_p = M_t - H_f (Eq. 12), with its smallest Ritz pair
 * @param principalAngleCosines singular values of U^T V, U and V the top-k eigenvectors of H_f and M_t (Eq. 13), descending
 * @param hessianLayerLoadings  per top eigenvector of H_f, the share of its squared norm per layer (Sec. 4.4)
 * @param davisKahanBounds      Eq. 59 for s = 1, 2, 3
 * @param hessianFullSpectrum   all eigenvalues of the dense H_f, ascending; null unless asked (small p)
 * @param secondMomentFullSpectrum all eigenvalues of the dense M_t, ascending; null unless asked (small p)
 * @param predictionHessianFrobenius ||H_p||_F when the dense H_p was formed, else null
 * @param seconds               wall time of the computation
 */
public record Spectra(EigenPairs hessian, EigenPairs secondMoment, EigenPairs predictionHessian,
                      double[] principalAngleCosines, double[][] hessianLayerLoadings, double[] davisKahanBounds,
                      double[] hessianFullSpectrum, double[] secondMomentFullSpectrum,
                      Double predictionHessianFrobenius, double seconds) {

    /** L = max |lambda(H_f)| (Assumption 1), from the top and the bottom Ritz values. */
    public double hessianSpectralNorm() {
        return hessian.spectralNorm();
    }

    /** ||H_p||_2 = max |lambda(H_p)|. */
    public double predictionHessianSpectralNorm() {
        return predictionHessian.spectralNorm();
    }
}
