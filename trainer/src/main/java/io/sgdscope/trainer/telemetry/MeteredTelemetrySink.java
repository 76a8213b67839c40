package io.sgdscope.trainer.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sgdscope.client.Delivery;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link TelemetrySink} that counts what passes through it into Micrometer meters (the trainer's
 * side of the "Pipeline health" dashboard) and hands everything on to another sink. Labels are bounded:
 * experiment, probe kind, run status — never a run.
 *
 * <ul>
 *   <li>{@code sgdscope_trainer_iterations_total{experiment}}: iterations trained, counted per run (a frame of
 *       R runs counts R);</li>
 *   <li>{@code sgdscope_trainer_probe_seconds{probe="moments"|"spectrum"}}: wall time of the curvature
 *       probes ({@code _count}, {@code _sum}, {@code _max});</li>
 *   <li>{@code sgdscope_trainer_runs_started_total{experiment}},
 *       {@code sgdscope_trainer_runs_finished_total{experiment,status}}, {@code sgdscope_trainer_runs_active{experiment}}.</li>
 * </ul>
 */
public final class MeteredTelemetrySink implements TelemetrySink {

    private final TelemetrySink next;
    private final MeterRegistry registry;
    private final Map<String, Counter> iterations = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();
    private final Timer momentsProbe;
    private final Timer spectrumProbe;

    public MeteredTelemetrySink(TelemetrySink next, MeterRegistry registry) {
        this.next = next;
        this.registry = registry;
        this.momentsProbe = probe("moments");
        this.spectrumProbe = probe("spectrum");
    }

    @Override
    public void runStarted(RunStarted record) {
        next.runStarted(record);
        String experiment = record.getExperimentId();
        Counter.builder("sgdscope.trainer.runs.started").tag("experiment", experiment)
                .description("Runs the trainer started").register(registry).increment();
        active.computeIfAbsent(experiment, e -> {
            AtomicInteger count = new AtomicInteger();
            Gauge.builder("sgdscope.trainer.runs.active", count, AtomicInteger::get).tag("experiment", e)
                    .description("Runs the trainer has started and not finished").register(registry);
            return count;
        }).incrementAndGet();
    }

    @Override
    public void iteration(IterationMetrics record) {
        next.iteration(record);
        iterations(record.getExperimentId()).increment();
        if (record.getProbeSeconds() != null) {
            momentsProbe.record(Duration.ofNanos((long) (record.getProbeSeconds() * 1e9)));
        }
    }

    @Override
    public void frame(String frameKey, Frame frame) {
        next.frame(frameKey, frame);
        iterations(frame.experimentId()).increment(frame.size());
        if (frame.has(FrameColumn.PROBE_SECONDS)) {
            for (int i = 0; i < frame.size(); i++) {
                if (frame.isPresent(FrameColumn.PROBE_SECONDS, i)) {
                    momentsProbe.record(Duration.ofNanos((long) (frame.value(FrameColumn.PROBE_SECONDS, i) * 1e9)));
                }
            }
        }
    }

    private Counter iterations(String experiment) {
        return iterations.computeIfAbsent(experiment, e -> Counter.builder("sgdscope.trainer.iterations")
                .tag("experiment", e).description("SGD iterations the trainer completed, counted per run").register(registry));
    }

    @Override
    public void spectrum(SpectrumSnapshot record) {
        next.spectrum(record);
        spectrumProbe.record(Duration.ofNanos((long) (record.getProbeSeconds() * 1e9)));
    }

    @Override
    public void runFinished(RunFinished record) {
        next.runFinished(record);
        String experiment = record.getExperimentId();
        Counter.builder("sgdscope.trainer.runs.finished").tag("experiment", experiment)
                .tag("status", record.getStatus().name().toLowerCase(java.util.Locale.ROOT))
                .description("Runs the trainer finished, by how they ended").register(registry).increment();
        AtomicInteger count = active.get(experiment);
        if (count != null) {
            count.decrementAndGet();
        }
    }

    @Override
    public long droppedRecords(String runId) {
        return next.droppedRecords(runId);
    }

    @Override
    public Delivery delivery(String runId) {
        return next.delivery(runId);
    }

    @Override
    public Delivery finishedDelivery(String runId) {
        return next.finishedDelivery(runId);
    }

    private Timer probe(String kind) {
        return Timer.builder("sgdscope.trainer.probe").tag("probe", kind)
                .description("Wall time of the trainer's curvature probes: moments (IterationMetrics) and spectra (SpectrumSnapshot)")
                .register(registry);
    }
}
