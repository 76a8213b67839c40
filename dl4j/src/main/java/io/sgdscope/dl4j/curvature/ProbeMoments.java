package io.sgdscope.dl4j.curvature;

import io.sgdscope.schemas.IterationMetrics;

/**
 * The moments of the per-example gradients on a probe set at theta_t and L, under the names of the
 * IterationMetrics fields they fill (see {@code docs/quantities.md}). float64.
 *
 * @param gradNormSq          ||mu||^2, mu = grad f (Eq. 4)
 * @param traceM              Tr M = (1/n) sum_i ||grad f(theta; z_i)||^2 (Eq. 7)
 * @param traceSigma          Tr Sigma = Tr M - ||mu||^2 (Eq. 5)
 * @param sigmaFrobenius      ||Sigma||_F (Eq. 5, Thm 1)
 * @param sigmaSpectral       ||Sigma||_2 (Thm 1)
 * @param sigmaHalfMuNorm     ||Sigma^{1/2} mu|| = sqrt(mu^T Sigma mu) (Thm 1)
 * @param hessianSpectralNorm L = max |lambda(H_f)| (Eq. 6, Assumption 1): a Lanczos lower estimate
 * @param probeSeconds        wall time of this call
 * @param loss                f(theta) on the probe set, the mean of the per-example losses as DL4J scores them
 * @param samples             n, the examples of the probe set
 * @param products            what the call cost
 */
public record ProbeMoments(double gradNormSq, double traceM, double traceSigma, double sigmaFrobenius,
                           double sigmaSpectral, double sigmaHalfMuNorm, double hessianSpectralNorm,
                           double probeSeconds, double loss, int samples, ProductCounts products) {

    /** Sets the curvature fields of an IterationMetrics record (gradNormSq ... sigmaHalfMuNorm, L, probeSeconds). */
    public IterationMetrics applyTo(IterationMetrics record) {
        record.setGradNormSq(gradNormSq);
        record.setTraceM(traceM);
        record.setTraceSigma(traceSigma);
        record.setSigmaFrobenius(sigmaFrobenius);
        record.setSigmaSpectral(sigmaSpectral);
        record.setSigmaHalfMuNorm(sigmaHalfMuNorm);
        record.setHessianSpectralNorm(hessianSpectralNorm);
        record.setProbeSeconds(probeSeconds);
        return record;
    }
}
