package io.sgdscope.client;

/**
 * The scalars of one SGD iteration t that the caller computes, all at theta_t before the update
 * theta_{t+1} = theta_t - eta_t g_t (Eq. 8). The publisher adds ||g_t||, cos(g_t, g_{t-1}) from the arrays it is
 * handed. Optional values are null when not computed at t.
 *
 * @param loss          f(theta_t), the mean loss over the training set (Eq. 3), or over a probe set the caller
 *                      documents, in nats
 * @param minibatchLoss mean loss over the minibatch that gave g_t
 * @param stepSize      eta_t, the step actually taken (Eq. 8)
 * @param batchSize     m, the minibatch size of g_t
 * @param trainAccuracy accuracy on the training set at theta_t, or null
 * @param testLoss      loss on held-out data at theta_t, or null
 * @param testAccuracy  accuracy on held-out data at theta_t, or null
 */
public record Step(double loss, double minibatchLoss, double stepSize, int batchSize, Double trainAccuracy,
                   Double testLoss, Double testAccuracy) {

    /** @throws IllegalArgumentException for a batch size < 1 */
    public Step {
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be >= 1, got " + batchSize);
        }
    }

    /** The required scalars only. */
    public static Step of(double loss, double minibatchLoss, double stepSize, int batchSize) {
        return new Step(loss, minibatchLoss, stepSize, batchSize, null, null, null);
    }

    /** This step with the training set's accuracy. */
    public Step withTrainAccuracy(double accuracy) {
        return new Step(loss, minibatchLoss, stepSize, batchSize, accuracy, testLoss, testAccuracy);
    }

    /** This step with the held-out set's loss and accuracy. */
    public Step withTest(double heldOutLoss, double heldOutAccuracy) {
        return new Step(loss, minibatchLoss, stepSize, batchSize, trainAccuracy, heldOutLoss, heldOutAccuracy);
    }
}
