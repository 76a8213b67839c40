package io.sgdscope.streams.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gauges that come and go in groups, e.g. the series of one watched run, removed when the run
 * finishes or its task moves away. A gauge reads a value the stream thread sets; Prometheus reads it
 * whenever it scrapes. Thread-safe.
 */
public final class MeterGroups {

    private static final class Value {
        volatile double value;
        Gauge gauge;
    }

    private record GaugeKey(String name, Tags tags) {}

    private final MeterRegistry registry;
    private final Map<String, Map<GaugeKey, Value>> groups = new ConcurrentHashMap<>();

    public MeterGroups(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Sets a gauge of a group, registering it (and the group) on first use. */
    public void set(String group, String name, Tags tags, String description, double value) {
        Map<GaugeKey, Value> gauges = groups.computeIfAbsent(group, key -> new ConcurrentHashMap<>());
        Value holder = gauges.computeIfAbsent(new GaugeKey(name, tags), key -> {
            Value created = new Value();
            created.gauge = Gauge.builder(name, created, v -> v.value)
                    .tags(tags)
                    .description(description)
                    .strongReference(true)
                    .register(registry);
            return created;
        });
        holder.value = value;
    }

    /** The value a gauge of a group shows, or NaN if there is no such gauge. */
    public double get(String group, String name, Tags tags) {
        Map<GaugeKey, Value> gauges = groups.get(group);
        Value holder = gauges == null ? null : gauges.get(new GaugeKey(name, tags));
        return holder == null ? Double.NaN : holder.value;
    }

    public boolean hasGroup(String group) {
        return groups.containsKey(group);
    }

    /** Removes a group's gauges from the registry. */
    public void remove(String group) {
        Map<GaugeKey, Value> gauges = groups.remove(group);
        if (gauges != null) {
            gauges.values().forEach(holder -> registry.remove(holder.gauge));
        }
    }
}
