package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Eigenpairs of a symmetric operator from a Krylov method, largest eigenvalue first.
 *
 * @param values    the top-k Ritz values, descending
 * @param residuals Ritz residual norms ||A y_j - lambda_j y_j|| of {@code values}, same order
 * @param vectors   [p, k], column j the unit Ritz vector of values[j]
 * @param smallest  the smallest (most negative) Ritz value of the same Krylov space
 * @param smallestResidual its residual norm
 * @param smallestVector [p] its unit Ritz vector
 * @param steps     Lanczos steps (operator products) taken
 */
public record EigenPairs(double[] values, double[] residuals, INDArray vectors, double smallest,
                         double smallestResidual, INDArray smallestVector, int steps) {

    /** Number of pairs. */
    public int count() {
        return values.length;
    }

    /** max |lambda| over the spectrum as far as the Krylov space sees it: max(|largest|, |smallest|). */
    public double spectralNorm() {
        double top = values.length == 0 ? 0 : Math.abs(values[0]);
        return Math.max(top, Math.abs(smallest));
    }
}
