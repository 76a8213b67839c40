package io.sgdscope.trainer.telemetry;

import static io.sgdscope.client.MinimalRecords.iteration;
import static io.sgdscope.client.MinimalRecords.runFinished;
import static io.sgdscope.client.MinimalRecords.runStarted;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MeteredTelemetrySinkTest {

    @Test
    void itCountsIterationsRunsAndProbeTimesAndPassesEverythingOn() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        InMemoryTelemetrySink memory = new InMemoryTelemetrySink();
        MeteredTelemetrySink sink = new MeteredTelemetrySink(memory, registry);

        sink.runStarted(runStarted("e-r00000"));
        IterationMetrics first = iteration("e-r00000", 0);
        first.setProbeSeconds(0.25);
        sink.iteration(first);
        sink.iteration(iteration("e-r00000", 1));
        sink.spectrum(SpectrumSnapshot.newBuilder().setRunId("e-r00000").setExperimentId("e").setIteration(0)
                .setTimestampMillis(1).setPrecision("float64").setTopK(1).setHessianEigenvalues(List.of(1.0))
                .setHessianResiduals(List.of(0.0)).setSecondMomentEigenvalues(List.of(1.0)).setSecondMomentResiduals(List.of(0.0))
                .setPredictionHessianEigenvalues(List.of(0.0)).setPredictionHessianResiduals(List.of(0.0))
                .setPrincipalAngleCosines(List.of(1.0)).setHessianLayerLoadings(List.of(List.of(1.0)))
                .setDavisKahanBounds(List.of(0.0, 0.0, 0.0)).setProbeSeconds(1.5).build());
        assertEquals(1.0, registry.get("sgdscope.trainer.runs.active").tag("experiment", "e").gauge().value());
        RunFinished finished = runFinished("e-r00000", 2, 0);
        finished.setStatus(RunStatus.DIVERGED);
        sink.runFinished(finished);

        assertEquals(2.0, registry.get("sgdscope.trainer.iterations").tag("experiment", "e").counter().count());
        assertEquals(1, registry.get("sgdscope.trainer.probe").tag("probe", "moments").timer().count());
        assertEquals(0.25, registry.get("sgdscope.trainer.probe").tag("probe", "moments").timer().totalTime(TimeUnit.SECONDS), 1e-9);
        assertEquals(1.5, registry.get("sgdscope.trainer.probe").tag("probe", "spectrum").timer().totalTime(TimeUnit.SECONDS), 1e-9);
        assertEquals(1.0, registry.get("sgdscope.trainer.runs.finished").tag("status", "diverged").counter().count());
        assertEquals(0.0, registry.get("sgdscope.trainer.runs.active").tag("experiment", "e").gauge().value());
        assertEquals(2, memory.iterations().size(), "everything reaches the next sink");
        assertEquals(1, memory.spectra("e-r00000").size());
        assertEquals(1, memory.runsFinished().size());
    }
}
