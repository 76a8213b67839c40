package io.sgdscope.streams.deviation;

/**
 * Theorem 1 (§5.2, Eq. 27–29): where Δ_t(f) = f(θ_{t+1}) − f(θ_t) lies for vanilla SGD, given θ_t.
 * Pure functions of the quantities at θ_t (see {@link MomentsAtTheta}).
 */
public final class Theorem1 {

    private Theorem1() {}

    /** The interval of Eq. 27 that holds E[Δ_t | θ_t]. */
    public record Interval(double lower, double upper) {

        /** The interval's midpoint, −η‖μ‖²: sgdscope's estimate ê_t of E[Δ_t | θ_t]. */
        public double midpoint() {
            return (lower + upper) / 2;
        }

        /** Half the width, (η²/2) L Tr M: how far E[Δ_t | θ_t] may be from the midpoint. */
        public double halfWidth() {
            return (upper - lower) / 2;
        }
    }

    /**
     * The deviation allowance of Eq. 28–29 at confidence δ: a step beyond {@code upper + above} or below
     * {@code lower − below} has probability at most δ under the theorem (each side).
     *
     * @param alpha1 α_{t,1} = η|1 − ηL| ‖Σ^{1/2}μ‖/√m
     * @param beta1 β_{t,1} = η|1 + ηL| ‖Σ^{1/2}μ‖/√m
     * @param alpha2 α_{t,2} = η²L‖Σ‖_F/(2m)
     * @param alpha3 α_{t,3} = η²L‖Σ‖₂/(2m)
     * @param above s above the interval: max(α₁√x, α₂√x, α₃x)
     * @param below s below it: max(β₁√x, α₂√x, α₃x)
     */
    public record Allowance(double alpha1, double beta1, double alpha2, double alpha3, double above, double below) {}

    /** The interval, the allowance, and the thresholds a step is compared with. */
    public record Bounds(Interval interval, Allowance allowance) {

        public double lowerThreshold() {
            return interval.lower() - allowance.below();
        }

        public double upperThreshold() {
            return interval.upper() + allowance.above();
        }

        /** Whether Δ_t lies beyond the interval ± allowance: an exceedance. */
        public boolean exceededBy(double lossDelta) {
            return lossDelta > upperThreshold() || lossDelta < lowerThreshold();
        }
    }

    /** −η‖μ‖² + (η²/2) L Tr M, the upper end of Eq. 27; ≤ 0 is the super-martingale condition of §5.4. */
    public static double expectedChangeUpperBound(double stepSize, double gradNormSq, double hessianNorm, double traceM) {
        return -stepSize * gradNormSq + stepSize * stepSize / 2 * hessianNorm * traceM;
    }

    /** Eq. 27: [−η‖μ‖² − (η²/2) L Tr M, −η‖μ‖² + (η²/2) L Tr M]. */
    public static Interval interval(MomentsAtTheta at) {
        double center = -at.stepSize() * at.gradNormSq();
        double halfWidth = at.stepSize() * at.stepSize() / 2 * at.hessianNorm() * at.traceM();
        return new Interval(center - halfWidth, center + halfWidth);
    }

    /** x = ln(2/δ)/c: the exponent at which the tail bound 2 exp(−c·x) of Eq. 28–29 equals δ. */
    public static double exponent(double delta, double c) {
        return Math.log(2 / delta) / c;
    }

    /**
     * Eq. 28–29 solved for s at probability δ: 2 exp(−c min(s²/α₁², s²/α₂², s/α₃)) ≤ δ exactly when
     * s ≥ α₁√x, s ≥ α₂√x and s ≥ α₃x, with x = ln(2/δ)/c (β₁ in place of α₁ below the interval).
     */
    public static Allowance allowance(MomentsAtTheta at, double x) {
        double eta = at.stepSize();
        double lipschitz = at.hessianNorm();
        double m = at.batchSize();
        double alpha1 = eta * Math.abs(1 - eta * lipschitz) * at.sigmaHalfMuNorm() / Math.sqrt(m);
        double beta1 = eta * Math.abs(1 + eta * lipschitz) * at.sigmaHalfMuNorm() / Math.sqrt(m);
        double alpha2 = eta * eta * lipschitz * at.sigmaFrobenius() / (2 * m);
        double alpha3 = eta * eta * lipschitz * at.sigmaSpectral() / (2 * m);
        double rootX = Math.sqrt(x);
        double shared = Math.max(alpha2 * rootX, alpha3 * x);
        return new Allowance(alpha1, beta1, alpha2, alpha3, Math.max(alpha1 * rootX, shared), Math.max(beta1 * rootX, shared));
    }

    public static Bounds bounds(MomentsAtTheta at, double x) {
        return new Bounds(interval(at), allowance(at, x));
    }

    /**
     * The largest step size that keeps the super-martingale condition (§5.4): η ≤ 2‖μ‖²/(L Tr M)
     * (Thm 3, Eq. 35 asks for η between a quarter and three quarters of it). Infinite when L Tr M = 0.
     */
    public static double largestSupermartingaleStep(double gradNormSq, double hessianNorm, double traceM) {
        double curvature = hessianNorm * traceM;
        return curvature <= 0 ? Double.POSITIVE_INFINITY : 2 * gradNormSq / curvature;
    }
}
