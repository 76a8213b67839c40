package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The terms of Corollary 4 (Eq. 52) with an isotropic prior N(theta_0, sigma^2 I) (Assumption 2,
 * Eq. 42-44), in float64.
 *
 * @param priorSigma          sigma
 * @param effectiveCurvature  sum over j with H_f[j,j] > 1/sigma^2 of ln(H_f[j,j] sigma^2)
 * @param weightedFrobenius   ||theta - theta_0||^2 / sigma^2
 * @param bound               (effectiveCurvature + weightedFrobenius) / (2n) + ln((n + 1) / delta) / n
 * @param delta               the confidence delta of the bound
 */
public record GeneralizationTerms(double priorSigma, double effectiveCurvature, double weightedFrobenius,
                                  double bound, double delta) {

    /**
     * @param hessianDiagonal diag(H_f(theta)), [p]
     * @param theta           theta, [p]
     * @param theta0          theta_0 (the prior mean, the initialisation), [p]
     * @param samples         n
     */
    public static GeneralizationTerms of(INDArray hessianDiagonal, INDArray theta, INDArray theta0, double priorSigma,
                                         int samples, double delta) {
        double sigmaSq = priorSigma * priorSigma;
        double effective = 0;
        for (double h : hessianDiagonal.toDoubleVector()) {
            if (h > 1 / sigmaSq) {
                effective += Math.log(h * sigmaSq);                                  // Eq. 52, first term
            }
        }
        double[] t = theta.toDoubleVector();
        double[] t0 = theta0.toDoubleVector();
        double distanceSq = 0;
        for (int j = 0; j < t.length; j++) {
            double d = t[j] - t0[j];
            distanceSq += d * d;
        }
        double weighted = distanceSq / sigmaSq;                                      // Eq. 52, second term
        double bound = (effective + weighted) / (2.0 * samples) + Math.log((samples + 1) / delta) / samples;
        return new GeneralizationTerms(priorSigma, effective, weighted, bound, delta);
    }
}
