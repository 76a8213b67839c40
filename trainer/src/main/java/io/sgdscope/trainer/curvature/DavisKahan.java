package io.sgdscope.trainer.curvature;

/** The Davis-Kahan sin-theta bound between the top eigenspaces of H_f and M_t (App. B.2.2). */
public final class DavisKahan {

    private DavisKahan() {}

    /**
     * Eq. 59 for s = 1 .. min(3, k - 1): ||sin Theta||_F <= 2 min(sqrt(s) ||H_p||_2, ||H_p||_F) / (lambda_s - lambda_{s+1}),
     * lambda the eigenvalues of H_f (descending), d = s (r = 1, Eq. 58). With the Frobenius norm
     * unknown (null: large p, no dense H_p) the first term alone is used, still a valid bound
     * (min(a, b) <= a). A zero eigengap gives +infinity.
     *
     * @param hessianEigenvalues at least s + 1 top eigenvalues of H_f, descending
     * @param residualSpectralNorm ||H_p||_2 = max |lambda(H_p)|
     * @param residualFrobenius ||H_p||_F, or null
     */
    public static double[] bounds(double[] hessianEigenvalues, double residualSpectralNorm, Double residualFrobenius) {
        int count = Math.max(0, Math.min(3, hessianEigenvalues.length - 1));
        double[] bounds = new double[count];
        for (int s = 1; s <= count; s++) {
            double numerator = Math.sqrt(s) * residualSpectralNorm;                   // Eq. 59
            if (residualFrobenius != null) {
                numerator = Math.min(numerator, residualFrobenius);
            }
            double gap = hessianEigenvalues[s - 1] - hessianEigenvalues[s];
            bounds[s - 1] = gap > 0 ? 2 * numerator / gap : Double.POSITIVE_INFINITY;
        }
        return bounds;
    }
}
