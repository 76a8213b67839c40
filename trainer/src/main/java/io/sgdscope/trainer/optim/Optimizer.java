package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One update rule theta_{t+1} = theta_t - (step) from the stochastic gradient g_t. Stateful (moving
 * averages): one instance per run.
 */
public interface Optimizer {

    /** Name in provenance ({@code RunStarted.optimizer.name}). */
    String name();

    /**
     * Updates {@code theta} in place.
     *
     * @param gradient g_t, the minibatch gradient at theta_t
     * @param exact    full-batch quantities at theta_t when the trainer computed them at this iteration,
     *                 else {@link FullBatchStatistics#NONE}
     * @return the step size actually used: eta_t for scalar steps; for per-coordinate steps the
     *         effective scalar step ||theta_{t+1} - theta_t|| / ||g_t|| (0 when g_t = 0)
     */
    double step(INDArray theta, INDArray gradient, FullBatchStatistics exact);

    /** A copy of everything this optimizer carries between steps (for a checkpoint). */
    OptimizerState state();

    /**
     * Continues from a state {@link #state()} gave: the following steps equal those the saved optimizer would
     * have taken.
     *
     * @param type the data type of theta (vectors are restored in it)
     * @throws IllegalArgumentException if the state is another optimizer's
     */
    void restore(OptimizerState state, DataType type);
}
