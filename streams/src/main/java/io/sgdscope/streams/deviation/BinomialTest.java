package io.sgdscope.streams.deviation;

/**
 * The one-sided binomial test of the exceedance alert: under Theorem 1 each checked step exceeds the
 * interval ± allowance with probability at most δ, so in a window of n steps the count of exceedances
 * is (at most, stochastically) Binomial(n, δ). A count k is significant at level α when
 * P[Bin(n, δ) ≥ k] ≤ α. An alert also needs at least two exceedances, whatever δ and α: one
 * exceedance alone never raises one.
 *
 * <p>The smallest significant count of every window size up to the largest is computed once.
 */
public final class BinomialTest {

    /** Never fewer exceedances than this raise an alert. */
    public static final int MIN_EXCEEDANCES = 2;

    private final double probability;
    private final double level;
    private final int[] criticalCounts;

    /**
     * @param probability δ, the chance of an exceedance in one step, in (0, 1)
     * @param level α, the significance level, in (0, 1)
     * @param maxSteps the largest window size
     */
    public BinomialTest(double probability, double level, int maxSteps) {
        if (!(probability > 0 && probability < 1)) {
            throw new IllegalArgumentException("probability must be in (0, 1), was " + probability);
        }
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("level must be in (0, 1), was " + level);
        }
        this.probability = probability;
        this.level = level;
        this.criticalCounts = new int[maxSteps + 1];
        for (int n = 0; n <= maxSteps; n++) {
            int k = MIN_EXCEEDANCES;
            while (k <= n && upperTail(n, k, probability) > level) {
                k++;
            }
            criticalCounts[n] = k; // n + 1 (unreachable) when no count up to n is significant
        }
    }

    /** The smallest count of exceedances in n steps that is significant (at least {@value #MIN_EXCEEDANCES}). */
    public int criticalCount(int steps) {
        return criticalCounts[steps];
    }

    /** Whether k exceedances in n steps are significantly more than δ·n. */
    public boolean significant(int exceedances, int steps) {
        return exceedances >= criticalCount(steps);
    }

    /** The p-value of k exceedances in n steps: P[Bin(n, δ) ≥ k]. */
    public double pValue(int exceedances, int steps) {
        return upperTail(steps, exceedances, probability);
    }

    public double probability() {
        return probability;
    }

    public double level() {
        return level;
    }

    /**
     * P[Bin(n, p) ≥ k], summed term by term from k upwards (no 1 − (...) cancellation, so tiny tails
     * keep their digits): P[X = k] = C(n, k) p^k (1 − p)^{n−k} from logarithms, then
     * P[X = i + 1] = P[X = i] (n − i)/(i + 1) · p/(1 − p).
     */
    public static double upperTail(int n, int k, double p) {
        if (k <= 0) {
            return 1.0;
        }
        if (k > n) {
            return 0.0;
        }
        double logChoose = 0;
        for (int i = 1; i <= k; i++) {
            logChoose += Math.log((double) (n - k + i) / i);
        }
        double term = Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p));
        double sum = 0;
        double ratio = p / (1 - p);
        for (int i = k; i <= n && term > 0; i++) {
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
            term *= (double) (n - i) / (i + 1) * ratio;
        }
        return Math.min(1.0, sum);
    }
}
