package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Exact full-batch quantities at theta_t that adaptive optimizers use when the trainer has them at
 * this iteration (Thm 3). NaN or null marks what is not known.
 *
 * @param gradNormSq            ||mu_t||^2 (Eq. 4)
 * @param traceM                Tr M_t (Eq. 7)
 * @param hessianSpectralNorm   L, the latest known max |lambda(H_f)| (Assumption 1); may come from an
 *                              earlier spectrum snapshot
 * @param fullGradient          mu_t itself, length p, or null
 * @param secondMomentDiagonal  diag(M_t): M_{t,j} = (1/n) sum_i (grad f_i)_j^2, length p, or null
 */
public record FullBatchStatistics(double gradNormSq, double traceM, double hessianSpectralNorm, INDArray fullGradient,
                                  INDArray secondMomentDiagonal) {

    /** Nothing known at this iteration. */
    public static final FullBatchStatistics NONE = new FullBatchStatistics(Double.NaN, Double.NaN, Double.NaN, null, null);

    /** Only L known (e.g. from the latest spectrum snapshot). */
    public static FullBatchStatistics withL(double hessianSpectralNorm) {
        return new FullBatchStatistics(Double.NaN, Double.NaN, hessianSpectralNorm, null, null);
    }

    boolean hasL() {
        return hessianSpectralNorm > 0 && Double.isFinite(hessianSpectralNorm);
    }

    boolean hasScalarMoments() {
        return Double.isFinite(gradNormSq) && traceM > 0 && Double.isFinite(traceM);
    }

    boolean hasDiagonals() {
        return fullGradient != null && secondMomentDiagonal != null;
    }
}
