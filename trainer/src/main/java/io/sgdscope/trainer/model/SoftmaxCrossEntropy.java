package io.sgdscope.trainer.model;

/**
 * The softmax cross-entropy head on a block of logits phi(theta; x_i) (rows of k values, row-major),
 * in plain double arithmetic.
 *
 * <p>Why not ND4J's {@code log_softmax} / {@code sparse_softmax_cross_entropy_loss_with_logits}:
 * in 1.0.0-M2.1 both return -inf / +inf for a logit gap of 1000 (they take the log of an
 * underflowed softmax), which would end healthy N(0, I)-initialised runs as DIVERGED, and they cost
 * 60-110 us per call against ~1 us here for k = 10.
 */
public final class SoftmaxCrossEntropy {

    private SoftmaxCrossEntropy() {}

    /**
     * Sum over the rows of f(theta; z_i) = -log p(y_i | x_i, theta) (Eq. 10-11), with the stable
     * log-sum-exp log p_j = z_j - max(z) - log sum_l exp(z_l - max(z)).
     *
     * @param logits  rows x k values, row-major
     * @param labels  the label of each row
     * @param correct if not null, correct[0] is increased by the rows whose largest logit is the label
     * @param delta   if not null, receives dLoss/dlogits of the mean loss over the rows:
     *                (softmax(z_i) - onehot(y_i)) / rows, row-major
     * @return the summed loss, in nats (NaN if a logit is NaN or infinite)
     */
    public static double sumLoss(double[] logits, int[] labels, int rows, int k, int[] correct, double[] delta) {
        return sumLoss(logits, 0, rows, labels, k, correct, delta, rows);
    }

    /**
     * The same over rows {@code firstRow .. firstRow + rows - 1} of a larger block (labels indexed by the same
     * rows), with dLoss/dlogits of the mean over {@code meanOver} rows: one run's minibatch among an
     * ensemble's ({@link BatchedMlp}).
     */
    public static double sumLoss(double[] logits, int firstRow, int rows, int[] labels, int k, int[] correct,
                                 double[] delta, int meanOver) {
        double sum = 0;
        for (int i = firstRow; i < firstRow + rows; i++) {
            int base = i * k;
            double max = Double.NEGATIVE_INFINITY;
            int argmax = 0;
            for (int j = 0; j < k; j++) {
                double z = logits[base + j];
                if (z > max) {
                    max = z;
                    argmax = j;
                }
            }
            double expSum = 0;
            for (int j = 0; j < k; j++) {
                expSum += Math.exp(logits[base + j] - max);
            }
            double logSumExp = max + Math.log(expSum);
            int y = labels[i];
            sum += logSumExp - logits[base + y];                  // -log p(y_i | x_i) (Eq. 10-11)
            if (correct != null && argmax == y) {
                correct[0]++;
            }
            if (delta != null) {
                for (int j = 0; j < k; j++) {
                    double p = Math.exp(logits[base + j] - logSumExp);
                    delta[base + j] = (p - (j == y ? 1.0 : 0.0)) / meanOver;
                }
            }
        }
        return sum;
    }
}
