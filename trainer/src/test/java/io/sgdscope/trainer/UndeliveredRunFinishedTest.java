package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.Delivery;
import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A RunFinished whose delivery failed is sent again by {@code --resume}, without training the run again. */
class UndeliveredRunFinishedTest {

    @TempDir
    Path dir;

    /** Keeps every record, but reports the delivery of the RunFinished of the runs in {@code failing} as failed. */
    private static final class FailingFinishSink implements TelemetrySink {
        final InMemoryTelemetrySink kept = new InMemoryTelemetrySink();
        private final Set<String> failing;

        FailingFinishSink(Set<String> failing) {
            this.failing = failing;
        }

        @Override
        public void runStarted(RunStarted record) {
            kept.runStarted(record);
        }

        @Override
        public void iteration(IterationMetrics record) {
            kept.iteration(record);
        }

        @Override
        public void spectrum(SpectrumSnapshot record) {
            kept.spectrum(record);
        }

        @Override
        public void runFinished(RunFinished record) {
            kept.runFinished(record);
        }

        @Override
        public Delivery finishedDelivery(String runId) {
            if (!failing.contains(runId)) {
                return Delivery.DONE;
            }
            return new Delivery() {
                @Override
                public boolean isDone() {
                    return true;
                }

                @Override
                public boolean await(Duration timeout) {
                    return true;
                }

                @Override
                public boolean failed() {
                    return true;
                }
            };
        }
    }

    private TrainerSettings settings(String experimentId) {
        return TrainerSettings.builder().experimentId(experimentId).runs(3).iterations(20).workers(1)
                .curvature(CurvatureSettings.off()).checkpoint(CheckpointSettings.every(dir, 0)).build();
    }

    @Test
    void aResumeSendsAgainExactlyTheRunFinishedRecordsWhoseDeliveryFailed() {
        TrainerSettings settings = settings("undelivered");
        String failed = Experiment.runId("undelivered", 1);
        FailingFinishSink first = new FailingFinishSink(Set.of(failed));
        PerRunEngine.experiment(settings, first, ExperimentListener.none()).run();
        assertEquals(3, first.kept.runsFinished().size());

        TrainerSettings resuming = settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build();
        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(resuming, after, ExperimentListener.none()).run();
        assertEquals(3, result.skipped(), "every run had finished: none is trained again");
        assertTrue(after.iterations().isEmpty() && after.runsStarted().isEmpty());
        assertEquals(1, after.runsFinished().size(), "only the undelivered RunFinished is sent again");
        assertEquals(first.kept.finished(failed).orElseThrow(), after.runsFinished().get(0), "the very same record");

        // Delivered this time: a further resume sends nothing.
        InMemoryTelemetrySink again = new InMemoryTelemetrySink();
        PerRunEngine.experiment(resuming, again, ExperimentListener.none()).run();
        assertTrue(again.runsFinished().isEmpty(), again.runsFinished().toString());
    }

    @Test
    void aRunFinishedThatFailsAgainIsKeptForTheNextResume() {
        TrainerSettings settings = settings("still-undelivered");
        String failed = Experiment.runId("still-undelivered", 0);
        PerRunEngine.experiment(settings, new FailingFinishSink(Set.of(failed)), ExperimentListener.none()).run();

        TrainerSettings resuming = settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build();
        FailingFinishSink stillFailing = new FailingFinishSink(Set.of(failed));
        PerRunEngine.experiment(resuming, stillFailing, ExperimentListener.none()).run();
        assertEquals(1, stillFailing.kept.runsFinished().size());

        InMemoryTelemetrySink last = new InMemoryTelemetrySink();
        PerRunEngine.experiment(resuming, last, ExperimentListener.none()).run();
        assertEquals(failed, last.runsFinished().get(0).getRunId());
        assertEquals(1, last.runsFinished().size());
    }
}
