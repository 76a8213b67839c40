package io.sgdscope.streams.deviation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Theorem 1 and 2 and the binomial test against numbers worked out by hand here. */
class Theorem1Test {

    /** η = 0.5, m = 4, ‖μ‖² = 2, Tr M = 3, L = 3, ‖Σ^{1/2}μ‖ = 0.8, ‖Σ‖_F = 1.2, ‖Σ‖₂ = 0.6. */
    private static final MomentsAtTheta AT = new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6);

    @Test
    void intervalOfEq27IsMinusEtaMuSquaredPlusOrMinusHalfEtaSquaredLTraceM() {
        // −η‖μ‖² = −1; (η²/2) L Tr M = 0.125 · 3 · 3 = 1.125
        Theorem1.Interval interval = Theorem1.interval(AT);
        assertEquals(-2.125, interval.lower(), 1e-15);
        assertEquals(0.125, interval.upper(), 1e-15);
        assertEquals(-1.0, interval.midpoint(), 1e-15);
        assertEquals(1.125, interval.halfWidth(), 1e-15);
    }

    @Test
    void allowanceOfEq28And29IsTheLargestOfAlphaRootXAndAlpha3X() {
        double x = Math.log(2 / 0.01) / 1.0;                 // ln(2/δ)/c = 5.2983...
        double alpha1 = 0.5 * Math.abs(1 - 1.5) * 0.8 / 2;   // η|1 − ηL| ‖Σ^{1/2}μ‖/√m = 0.1
        double beta1 = 0.5 * (1 + 1.5) * 0.8 / 2;            // 0.5
        double alpha2 = 0.25 * 3 * 1.2 / (2 * 4);            // η²L‖Σ‖_F/(2m) = 0.1125
        double alpha3 = 0.25 * 3 * 0.6 / (2 * 4);            // 0.05625
        Theorem1.Allowance allowance = Theorem1.allowance(AT, Theorem1.exponent(0.01, 1.0));
        assertEquals(0.1, allowance.alpha1(), 1e-15);
        assertEquals(0.5, allowance.beta1(), 1e-15);
        assertEquals(0.1125, allowance.alpha2(), 1e-15);
        assertEquals(0.05625, allowance.alpha3(), 1e-15);
        // above: α₁√x = 0.230, α₂√x = 0.259, α₃x = 0.298 → α₃x; below: β₁√x = 1.151 → β₁√x
        assertEquals(alpha3 * x, allowance.above(), 1e-15);
        assertEquals(beta1 * Math.sqrt(x), allowance.below(), 1e-15);
        assertTrue(alpha1 * Math.sqrt(x) < allowance.above() && alpha2 * Math.sqrt(x) < allowance.above());
    }

    @Test
    void aStepJustInsideTheThresholdsIsNoExceedanceAndJustOutsideIsOne() {
        double x = Math.log(200);
        double upper = 0.125 + 0.05625 * x;
        double lower = -2.125 - 0.5 * Math.sqrt(x);
        Theorem1.Bounds bounds = Theorem1.bounds(AT, x);
        assertEquals(upper, bounds.upperThreshold(), 1e-15);
        assertEquals(lower, bounds.lowerThreshold(), 1e-15);
        assertFalse(bounds.exceededBy(upper - 1e-12));
        assertTrue(bounds.exceededBy(upper + 1e-12));
        assertFalse(bounds.exceededBy(lower + 1e-12));
        assertTrue(bounds.exceededBy(lower - 1e-12));
    }

    @Test
    void theSupermartingaleStepLimitIsTwoMuSquaredOverLTraceM() {
        assertEquals(2 * 2.0 / (3.0 * 3.0), Theorem1.largestSupermartingaleStep(2.0, 3.0, 3.0), 1e-15);
        // at η = 4/9 the upper end of Eq. 27 is 0: −(4/9)·2 + (16/81)/2·9 = 0
        assertEquals(0.0, Theorem1.expectedChangeUpperBound(4.0 / 9, 2.0, 3.0, 3.0), 1e-15);
    }

    @Test
    void k2OfEq33IsTheLargerOfItsTwoTermsAndTheEnvelopeSolvesEq32ForDelta() {
        // η = 0.1, μ = 2, σ = 0.5, L = 10, L₁ = 2, m = 5, p = 1150
        double hoeffding = 2 * 2 * 0.1 * (2 + Math.sqrt(0.5 * 1150) / Math.sqrt(5));              // 5.0895...
        double subExponential = 0.01 * 10 * (0.5 + 4) + 0.1 * 4 / Math.sqrt(5) * (1 + 1) * Math.sqrt(0.5)
                + 6 * 0.01 * 10 * 0.5 / 10;                                                            // 0.7330...
        assertEquals(hoeffding, Theorem2.k2(0.1, 2, 0.5, 10, 2, 5, 1150), 1e-12);
        assertTrue(hoeffding > subExponential);
        // with p = 1 and a tiny L₁ the second term wins
        double small = Theorem2.k2(0.1, 2, 0.5, 10, 1e-6, 5, 1);
        assertEquals(subExponential, small, 1e-12);

        double x = Math.log(200);
        assertEquals(hoeffding * Math.sqrt(8 * 50 * x), Theorem2.envelope(hoeffding, 50, x), 1e-9);
        assertEquals(hoeffding * 2 * x, Theorem2.envelope(hoeffding, 1, x), 1e-12, "for T < x/2 the linear term rules");
    }

    @Test
    void binomialTailsMatchTheSumsWorkedOutByHand() {
        // P[Bin(10, 0.1) ≥ 3] = 1 − 0.9^10 − 10·0.1·0.9^9 − 45·0.01·0.9^8
        double byHand = 1 - Math.pow(0.9, 10) - 10 * 0.1 * Math.pow(0.9, 9) - 45 * 0.01 * Math.pow(0.9, 8);
        assertEquals(byHand, BinomialTest.upperTail(10, 3, 0.1), 1e-14);
        // n = 20, δ = 0.01: P[≥3] = 1 − P0 − P1 − P2 = 0.0010036 (just above α = 0.001), P[≥4] = 4.3e-5
        double p0 = Math.pow(0.99, 20);
        double p1 = 20 * 0.01 * Math.pow(0.99, 19);
        double p2 = 190 * 1e-4 * Math.pow(0.99, 18);
        assertEquals(1 - p0 - p1 - p2, BinomialTest.upperTail(20, 3, 0.01), 1e-13);
        BinomialTest test = new BinomialTest(0.01, 0.001, 100);
        assertEquals(4, test.criticalCount(20), "3 of 20 is just not significant at 0.001, 4 is");
        assertFalse(test.significant(3, 20));
        assertTrue(test.significant(4, 20));
        assertEquals(6, test.criticalCount(100), "P[Bin(100, 0.01) ≥ 5] = 0.0034, ≥ 6 = 0.00053");
    }

    @Test
    void oneExceedanceNeverRaisesAnAlertHoweverSmallDeltaIs() {
        BinomialTest test = new BinomialTest(1e-6, 0.001, 50);
        assertTrue(BinomialTest.upperTail(1, 1, 1e-6) < 0.001, "the p-value alone would say: significant");
        assertFalse(test.significant(1, 1));
        assertEquals(2, test.criticalCount(1), "one step can never reach two exceedances");
        assertTrue(test.significant(2, 50));
    }
}
