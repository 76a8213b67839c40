package io.sgdscope.streams.quantiles;

/**
 * How far an experiment's runs got, as the quantiles app sees it.
 *
 * @param frontierIteration the latest iteration every active run has reached (when none is active:
 *                          the deepest iteration any run reached); -1 before any, and while a shard of a sharded
 *                          experiment has not started a run yet ({@link ExperimentFrontier})
 * @param active runs that sent iterations and no RunFinished yet, and have not stalled
 * @param completed runs that finished with RunFinished.status COMPLETED
 * @param diverged ... DIVERGED
 * @param cancelled ... CANCELLED
 * @param failed ... FAILED
 * @param stalled runs that sent iterations, no RunFinished, and nothing for the stall timeout (they count
 *                as active again when they send again)
 */
public record ExperimentStatus(String experimentId, int frontierIteration, long active, long completed, long diverged,
                               long cancelled, long failed, long stalled) {

    public long finished() {
        return completed + diverged + cancelled + failed;
    }
}
