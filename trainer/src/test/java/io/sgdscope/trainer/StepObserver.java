package io.sgdscope.trainer;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sees theta_t and g_t of every iteration of the per-run engine ({@link PerRunEngine}, the tests' reference), after
 * the gradient and before the update (Eq. 8): the
 * hook for probes that need the parameters themselves (curvature, tests). Runs on the run's worker
 * thread; the arrays are live and change after the call returns, so copy what you keep.
 */
@FunctionalInterface
public interface StepObserver {

    void step(String runId, int iteration, INDArray theta, INDArray gradient);

    /** An observer that does nothing. */
    static StepObserver none() {
        return (runId, iteration, theta, gradient) -> {};
    }
}
