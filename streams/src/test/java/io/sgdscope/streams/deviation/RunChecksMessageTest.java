package io.sgdscope.streams.deviation;

import static java.util.Locale.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RunChecksMessageTest {

    @Test
    void theorem1MessagesAreTheOneShotFormatOfEveryPartWhateverTheOrderOfTheirPairs() {
        DeviationSettings settings = DeviationSettings.defaults();
        BinomialTest binomial = new BinomialTest(settings.delta(), settings.alertLevel(), settings.window());
        RunChecks checks = new RunChecks(settings, (run, t, check, observed, bound, message) -> { },
                (run, name, tags, description, value) -> { });
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            int n = 1 + random.nextInt(settings.window());
            int k = random.nextInt(n + 1);
            int t = random.nextInt(100_000);
            Theorem1.Bounds bounds = new Theorem1.Bounds(
                    new Theorem1.Interval(-random.nextDouble(), random.nextDouble() * 1e-3),
                    new Theorem1.Allowance(1, 2, 3, 4, random.nextGaussian() * 1e5, random.nextDouble() * 1e-9));
            double lossDelta = random.nextGaussian() / 7;
            // The message as one String.format of the whole text: the reference the cached middle must reproduce.
            String expected = String.format(ROOT, "run %s: %d of the last %d checked steps left the Theorem 1 interval plus deviation "
                            + "allowance, %.2f expected at δ = %s (P[Bin(%d, %s) ≥ %d] = %.3g ≤ α = %s; c = %s); the latest at "
                            + "t = %d: Δ_t = %.6g outside [%.6g, %.6g] (Eq. 27's interval [%.6g, %.6g] widened by s = %.6g below "
                            + "and %.6g above, Eq. 28–29)",
                    "run-" + i, k, n, settings.delta() * n, RunChecks.number(settings.delta()), n, RunChecks.number(settings.delta()),
                    k, binomial.pValue(k, n), RunChecks.number(settings.alertLevel()), RunChecks.number(settings.c()), t, lossDelta,
                    bounds.lowerThreshold(), bounds.upperThreshold(), bounds.interval().lower(), bounds.interval().upper(),
                    bounds.allowance().below(), bounds.allowance().above());
            assertEquals(expected, checks.theorem1Message("run-" + i, n, k, t, lossDelta, bounds));
        }
    }
}
