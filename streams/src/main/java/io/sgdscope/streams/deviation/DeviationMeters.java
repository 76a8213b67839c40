package io.sgdscope.streams.deviation;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sgdscope.schemas.DeviationCheck;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The deviation app's experiment-level counters, one set per experiment, registered on first use and
 * cached here (the only cache of them): records read, records skipped by reason, Theorem 1 outcomes,
 * super-martingale steps by optimizer and condition, alerts by check. Labels are bounded (experiment and a
 * few fixed values), never a run. The alert counters of every check are registered at 0 when an
 * experiment is first seen, so that the first alert is an increase, not a new series.
 *
 * <p>Not thread-safe: one per processor (stream task); Micrometer shares the counters between tasks.
 */
final class DeviationMeters {

    /** Why a record was skipped. */
    enum Skipped {
        /** An iteration the run had sent already. */
        DUPLICATE,
        /** A record after the run's RunFinished was processed. */
        LATE
    }

    /** The Theorem 1 outcome of a step t → t + 1. */
    enum Outcome {
        INSIDE, EXCEEDED,
        /** No moments at θ_t (or Δ_t not finite): neither in the window nor in S_T. */
        UNCHECKED
    }

    private final MeterRegistry registry;
    private final Map<String, Experiment> experiments = new HashMap<>();

    DeviationMeters(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The experiment's counters; the first time, its alert counters are registered at 0. */
    Experiment of(String experimentId) {
        Experiment experiment = experiments.get(experimentId);
        if (experiment == null) {
            experiment = new Experiment(experimentId);
            experiments.put(experimentId, experiment);
        }
        return experiment;
    }

    /** The counters of one experiment, each registered on first use. */
    final class Experiment {

        private final String experimentId;
        private Counter records;
        private final Counter[] skipped = new Counter[Skipped.values().length];
        private final Counter[] outcomes = new Counter[Outcome.values().length];
        /** By optimizer (RunDeviation.OPTIMIZER_*) and condition (held, broken). */
        private final Counter[] supermartingale = new Counter[6];
        private final Counter[] alerts = new Counter[DeviationCheck.values().length];

        private Experiment(String experimentId) {
            this.experimentId = experimentId;
            for (DeviationCheck check : DeviationCheck.values()) {
                alert(check);
            }
        }

        /** Iteration records (runs of a frame) read. */
        void records(long count) {
            if (records == null) {
                records = register(MeterNames.DEVIATION_RECORDS, Tags.of(MeterNames.TAG_EXPERIMENT, experimentId),
                        "IterationMetrics records read by the deviation app");
            }
            records.increment(count);
        }

        void skipped(Skipped reason, long count) {
            if (count == 0) {
                return;
            }
            Counter counter = skipped[reason.ordinal()];
            if (counter == null) {
                counter = register(MeterNames.DEVIATION_SKIPPED_RECORDS, Tags.of(MeterNames.TAG_EXPERIMENT, experimentId,
                                MeterNames.TAG_REASON, reason.name().toLowerCase(Locale.ROOT)),
                        "Records the deviation app skipped: duplicate (an iteration sent again), late (after RunFinished)");
                skipped[reason.ordinal()] = counter;
            }
            counter.increment(count);
        }

        void steps(Outcome outcome, long count) {
            if (count == 0) {
                return;
            }
            Counter counter = outcomes[outcome.ordinal()];
            if (counter == null) {
                counter = register(MeterNames.THEOREM1_STEPS, Tags.of(MeterNames.TAG_EXPERIMENT, experimentId,
                                MeterNames.TAG_OUTCOME, outcome.name().toLowerCase(Locale.ROOT)),
                        "Steps t -> t+1 by Theorem 1 outcome: inside, exceeded, unchecked (no moments at theta_t)");
                outcomes[outcome.ordinal()] = counter;
            }
            counter.increment(count);
        }

        /** Checked steps of runs with the given optimizer (RunDeviation.OPTIMIZER_*), by whether §5.4's condition held. */
        void supermartingaleSteps(int optimizer, boolean held, long count) {
            if (count == 0) {
                return;
            }
            int slot = 2 * Math.floorMod(optimizer, 3) + (held ? 0 : 1);
            Counter counter = supermartingale[slot];
            if (counter == null) {
                String optimizerName = switch (optimizer) {
                    case RunDeviation.OPTIMIZER_VANILLA -> "vanilla";
                    case RunDeviation.OPTIMIZER_ADAPTIVE -> "adaptive";
                    default -> "unknown";
                };
                counter = register(MeterNames.SUPERMARTINGALE_STEPS, Tags.of(MeterNames.TAG_EXPERIMENT, experimentId,
                                MeterNames.TAG_OPTIMIZER, optimizerName, MeterNames.TAG_CONDITION, held ? "held" : "broken"),
                        "Checked steps by optimizer and whether the super-martingale condition of Sec. 5.4 held");
                supermartingale[slot] = counter;
            }
            counter.increment(count);
        }

        Counter alert(DeviationCheck check) {
            Counter counter = alerts[check.ordinal()];
            if (counter == null) {
                counter = register(MeterNames.DEVIATION_ALERTS, Tags.of(MeterNames.TAG_EXPERIMENT, experimentId,
                                MeterNames.TAG_CHECK, check.name().toLowerCase(Locale.ROOT),
                                MeterNames.TAG_SEVERITY, AlertLog.severityOf(check).name().toLowerCase(Locale.ROOT)),
                        "DeviationAlerts raised, by check and severity");
                alerts[check.ordinal()] = counter;
            }
            return counter;
        }

        private Counter register(String name, Tags tags, String description) {
            return Counter.builder(name).tags(tags).description(description).register(registry);
        }
    }
}
