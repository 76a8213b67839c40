package io.sgdscope.streams.quantiles;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.streams.metrics.MeterGroups;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.ToLongFunction;

/**
 * The current {@link ExperimentStatus} of each experiment this instance computes the frontier of, as
 * a Java view and as gauges ({@code sgdscope_experiment_frontier_iteration},
 * {@code sgdscope_experiment_runs{state}}). Thread-safe.
 */
public final class ExperimentStatuses {

    private static final List<String> STATES = List.of("active", "completed", "diverged", "cancelled", "failed", "stalled");
    private static final List<ToLongFunction<ExperimentStatus>> COUNTS = List.of(ExperimentStatus::active,
            ExperimentStatus::completed, ExperimentStatus::diverged, ExperimentStatus::cancelled, ExperimentStatus::failed,
            ExperimentStatus::stalled);

    private final ConcurrentMap<String, ExperimentStatus> statuses = new ConcurrentHashMap<>();
    private final MeterGroups gauges;

    public ExperimentStatuses(MeterRegistry registry) {
        this.gauges = new MeterGroups(registry);
    }

    public Optional<ExperimentStatus> current(String experimentId) {
        return Optional.ofNullable(statuses.get(experimentId));
    }

    public List<ExperimentStatus> all() {
        return statuses.values().stream().sorted(Comparator.comparing(ExperimentStatus::experimentId)).toList();
    }

    void publish(ExperimentStatus status) {
        statuses.put(status.experimentId(), status);
        Tags experiment = Tags.of(MeterNames.TAG_EXPERIMENT, status.experimentId());
        gauges.set(status.experimentId(), MeterNames.EXPERIMENT_FRONTIER_ITERATION, experiment,
                "The latest iteration every active run of the experiment has reached", status.frontierIteration());
        for (int i = 0; i < STATES.size(); i++) {
            gauges.set(status.experimentId(), MeterNames.EXPERIMENT_RUNS, experiment.and(MeterNames.TAG_STATE, STATES.get(i)),
                    "Runs of the experiment by state (active: sent iterations, no RunFinished yet; stalled: nothing for the stall timeout)",
                    COUNTS.get(i).applyAsLong(status));
        }
    }

    void withdraw(String experimentId) {
        statuses.remove(experimentId);
        gauges.remove(experimentId);
    }
}
