package io.sgdscope.trainer;

/** When a run has diverged: a non-finite loss f(theta_t), minibatch loss or ||g_t|| at iteration t. */
final class Divergence {

    private Divergence() {}

    /** Why the run diverged at iteration t, or null if all is finite. */
    static String at(int t, double loss, double minibatchLoss, double sgNorm) {
        if (!Double.isFinite(loss)) {
            return "loss f(theta_t) is " + loss + " at t = " + t;
        }
        if (!Double.isFinite(minibatchLoss)) {
            return "minibatch loss is " + minibatchLoss + " at t = " + t;
        }
        if (!Double.isFinite(sgNorm)) {
            return "stochastic gradient norm ||g_t|| is " + sgNorm + " at t = " + t;
        }
        return null;
    }
}
