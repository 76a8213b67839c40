package io.sgdscope.streams.deviation;

/**
 * Theorem 2 (§5.3, Eq. 32–33): the Azuma–Bernstein envelope of the cumulative martingale of a run.
 *
 * <p>Eq. 32 says P[|f(θ_T) − E f(θ_T)| ≥ √T s] ≤ 2 exp(−c min(s²/(8K₂²), √T s/(2K₂))). Setting the
 * right side to δ and writing u = √T s for the deviation of the sum of T steps, the bound holds at
 * probability 1 − δ for u ≥ K₂ max(√(8Tx), 2x), x = ln(2/δ)/c: {@link #envelope}.
 *
 * <p>The theorem's constants are upper bounds over the run (η_t ≤ η, ‖μ_t‖ ≤ μ, ‖Σ_t‖₂ ≤ σ, L, the
 * Lipschitz constant L₁ of f); sgdscope takes the running maxima of what the trainer measured, and for
 * L₁ the largest full-gradient norm seen (|f(θ₁) − f(θ₂)| ≤ sup‖∇f‖ ‖θ₁ − θ₂‖ along the path), and the
 * smallest batch size m (the terms shrink with m). Running maxima only grow, so the envelope only widens.
 */
public final class Theorem2 {

    private Theorem2() {}

    /**
     * K₂ of Eq. 33:
     * max(2 L₁ η (μ + √(σp)/√m), η²L(σ + μ²) + (ημ²/√m)(1 + ηL)√σ + (m + 1)η²Lσ/(2m)).
     * The second term is printed as in the paper (its proof's bound on β₁ suggests μ√σ where μ²√σ stands).
     *
     * @param eta largest step size η
     * @param mu largest full-gradient norm μ
     * @param sigma largest ‖Σ_t‖₂
     * @param lipschitzHessian L, largest Hessian spectral norm
     * @param lipschitzLoss L₁, the Lipschitz constant of f
     * @param batchSize m
     * @param parameters p
     */
    public static double k2(double eta, double mu, double sigma, double lipschitzHessian, double lipschitzLoss,
                            int batchSize, long parameters) {
        double m = batchSize;
        double hoeffding = 2 * lipschitzLoss * eta * (mu + Math.sqrt(sigma * parameters) / Math.sqrt(m));
        double subExponential = eta * eta * lipschitzHessian * (sigma + mu * mu)
                + eta * mu * mu / Math.sqrt(m) * (1 + eta * lipschitzHessian) * Math.sqrt(sigma)
                + (m + 1) * eta * eta * lipschitzHessian * sigma / (2 * m);
        return Math.max(hoeffding, subExponential);
    }

    /** K₂ max(√(8Tx), 2x): the deviation of a sum of T steps that Eq. 32 allows at probability δ (x = ln(2/δ)/c). */
    public static double envelope(double k2, long steps, double x) {
        return k2 * Math.max(Math.sqrt(8 * steps * x), 2 * x);
    }
}
