package io.sgdscope.streams.deviation;

import io.sgdscope.schemas.AlertSeverity;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.DeviationCheck;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The alerts this instance raised, for a summary (the demo's): counts by experiment and check, and
 * the latest few alerts. In memory only and best effort: the record of truth is sgd.alerts, read with
 * read_committed (an alert raised in a transaction that was then aborted shows here and not there).
 * Thread-safe.
 */
public final class AlertLog {

    /** How many alerts are kept. */
    public static final int CAPACITY = 1_000;

    private final Deque<DeviationAlert> latest = new ArrayDeque<>();
    private final Map<String, Map<DeviationCheck, Long>> counts = new java.util.HashMap<>();

    synchronized void add(DeviationAlert alert) {
        latest.addLast(alert);
        if (latest.size() > CAPACITY) {
            latest.removeFirst();
        }
        counts.computeIfAbsent(alert.getExperimentId(), id -> new EnumMap<>(DeviationCheck.class))
                .merge(alert.getCheck(), 1L, Long::sum);
    }

    /** Alerts raised for an experiment, by check (checks without alerts are absent). */
    public synchronized Map<DeviationCheck, Long> counts(String experimentId) {
        return new EnumMap<>(counts.getOrDefault(experimentId, new EnumMap<>(DeviationCheck.class)));
    }

    /** The latest alerts kept, oldest first, of an experiment. */
    public synchronized List<DeviationAlert> latest(String experimentId) {
        List<DeviationAlert> alerts = new ArrayList<>();
        for (DeviationAlert alert : latest) {
            if (alert.getExperimentId().equals(experimentId)) {
                alerts.add(alert);
            }
        }
        return alerts;
    }

    /** The severity each check raises its alerts with. */
    public static AlertSeverity severityOf(DeviationCheck check) {
        return check == DeviationCheck.DIVERGENCE ? AlertSeverity.CRITICAL : AlertSeverity.WARNING;
    }
}
