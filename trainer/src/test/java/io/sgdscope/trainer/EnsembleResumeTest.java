package io.sgdscope.trainer;

import static io.sgdscope.trainer.CheckpointResumeTest.assertSameValues;
import static io.sgdscope.trainer.CheckpointResumeTest.firstOfEachIteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checkpoints and --resume on the ensemble engine ({@link EnsembleResume}), with the per-run engine's guarantees
 * (CheckpointResumeTest): a block crashed in-process after a checkpoint, or cancelled, and resumed publishes every
 * iteration of every run, those published twice identical, and trains exactly what the uninterrupted ensemble trains
 * (float64, bit for bit), for every optimizer; runs of one block left at different checkpoints wait for each other.
 */
class EnsembleResumeTest {

    private static final int T = 60;

    @TempDir
    Path dir;

    /** 5 runs in blocks of 3 (runs 0-2, then 3-4), one worker, the moments and L every 5, checkpoints every 10. */
    private TrainerSettings.Builder settings(String experimentId, String optimizer) {
        return TrainerSettings.builder().experimentId(experimentId).runs(5).iterations(T).workers(1)
                .engine(Engine.ENSEMBLE).ensembleBlock(3)
                .learningRate(optimizer.equals("adam") ? 0.01 : 0.1).optimizer(OptimizerSettings.named(optimizer))
                .curvature(CurvatureSettings.off().withMomentsEvery(5))
                .checkpoint(CheckpointSettings.every(dir, 10));
    }

    /** Crashes like a killed process (an Error, which ends the block without RunFinished) after a frame of run 3's block. */
    private static ExperimentListener crashAfter(int iteration, Runnable before) {
        return new ExperimentListener() {
            @Override
            public void iterationsDone(Frame frame) {
                if (frame.runIds().get(0).endsWith("r00003")) {
                    if (frame.iteration() == 25) {
                        before.run();
                    }
                    if (frame.iteration() == iteration) {
                        throw new AssertionError("simulated crash at t = " + iteration);
                    }
                }
            }
        };
    }

    private static InMemoryTelemetrySink reference(TrainerSettings settings, String experimentId) {
        InMemoryTelemetrySink reference = new InMemoryTelemetrySink();
        new Experiment(settings.toBuilder().experimentId(experimentId).checkpoint(CheckpointSettings.off()).build(),
                reference, ExperimentListener.none()).run();
        return reference;
    }

    /** Every iteration of the run once, each equal bit for bit to the uninterrupted run's; returns its RunFinished. */
    private static void assertUninterrupted(List<IterationMetrics> published, List<IterationMetrics> uninterrupted,
                                            String runId) {
        Map<Integer, IterationMetrics> once = firstOfEachIteration(published);
        assertEquals(IntStream.range(0, T).boxed().toList(), List.copyOf(once.keySet()), runId);
        for (int t = 0; t < T; t++) {
            assertSameValues(uninterrupted.get(t), once.get(t));
        }
        for (IterationMetrics record : published) {                           // those published twice: identical
            assertSameValues(once.get(record.getIteration()), record);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adaptive", "diagonal", "adam"})
    void aCrashedBlockResumedFromItsCheckpointsPublishesWhatTheUninterruptedEnsembleDoes(String optimizer) {
        TrainerSettings settings = settings("ens-crash-" + optimizer, optimizer).build();
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        Experiment first = new Experiment(settings, before, crashAfter(37, () -> {}));
        IllegalStateException crash = assertThrows(IllegalStateException.class, first::run);
        assertTrue(crash.getMessage().contains("simulated crash"), crash.getMessage());
        String run3 = Experiment.runId(settings.experimentId(), 3);
        assertTrue(before.finished(run3).isEmpty(), "a crashed run publishes no RunFinished");
        assertEquals(38, before.iterations(run3).size());
        assertEquals(3, before.runsFinished().size(), "the first block had finished");

        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        Experiment resumed = new Experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build(), after,
                ExperimentListener.none());
        assertEquals(new ResumePlan(Set.of(0, 1, 2), Map.of(3, 30, 4, 30), 0), resumed.plan());
        ExperimentResult result = resumed.run();
        assertEquals(3, result.skipped());
        assertEquals(List.of(30, 30), result.runs().stream().map(RunResult::resumedFrom).toList());
        assertEquals(2, result.count(RunStatus.COMPLETED));

        InMemoryTelemetrySink reference = reference(settings, "ref-" + optimizer);
        for (int r = 3; r < 5; r++) {
            String runId = Experiment.runId(settings.experimentId(), r);
            List<IterationMetrics> all = new ArrayList<>(before.iterations(runId));
            all.addAll(after.iterations(runId));
            assertEquals(T + 8, all.size(), "iterations 30..37 published twice");
            assertUninterrupted(all, reference.iterations(Experiment.runId("ref-" + optimizer, r)), runId);
            assertEquals(before.started(runId).orElseThrow(), after.started(runId).orElseThrow(),
                    "the resumed run publishes its RunStarted again");
            RunFinished finished = after.finished(runId).orElseThrow();
            RunFinished expected = reference.finished(Experiment.runId("ref-" + optimizer, r)).orElseThrow();
            assertEquals(RunStatus.COMPLETED, finished.getStatus());
            assertEquals(T, finished.getIterations());
            assertEquals(expected.getFinalLoss(), finished.getFinalLoss(), 0.0);
            assertEquals(run3, finished.getFrameKey());
        }
        assertEquals(Set.of(run3), Set.copyOf(after.frameKeys()), "the resumed frames go under the RunStarted's key");
    }

    @Test
    void aResumedBlockPublishesTheSpectraAndCorollary4TermsOfTheUninterruptedEnsemble() {
        // Spectra at 0, 20, 40: the one at 40 comes after the resume from t = 30, warm-started from the checkpoint's
        // probe state; weightedFrobenius needs theta_0, which a resumed run no longer holds in its parameters.
        TrainerSettings settings = settings("ens-spectra", "sgd")
                .curvature(CurvatureSettings.off().withMomentsEvery(5).withSpectrumEvery(20)).build();
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        assertThrows(IllegalStateException.class, new Experiment(settings, before, crashAfter(37, () -> {}))::run);
        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        new Experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build(), after,
                ExperimentListener.none()).run();

        InMemoryTelemetrySink reference = reference(settings, "ref-spectra");
        for (int r = 3; r < 5; r++) {
            String runId = Experiment.runId(settings.experimentId(), r);
            List<SpectrumSnapshot> expected = reference.spectra(Experiment.runId("ref-spectra", r));
            List<SpectrumSnapshot> resumed = after.spectra(runId);
            assertEquals(List.of(0, 20, 40), expected.stream().map(SpectrumSnapshot::getIteration).toList());
            assertEquals(List.of(40), resumed.stream().map(SpectrumSnapshot::getIteration).toList(), runId);
            SpectrumSnapshot want = expected.get(2);
            SpectrumSnapshot got = resumed.get(0);
            for (int k = 0; k < want.getHessianEigenvalues().size(); k++) {
                double lambda = want.getHessianEigenvalues().get(k);
                assertEquals(lambda, got.getHessianEigenvalues().get(k), 1e-9 * Math.abs(lambda), runId + " lambda_" + k);
            }
            assertEquals(want.getWeightedFrobenius(), got.getWeightedFrobenius(), 1e-9 * want.getWeightedFrobenius(),
                    runId + ": ||theta_40 - theta_0||^2 / sigma^2 from the run's own theta_0");
            RunFinished finished = after.finished(runId).orElseThrow();
            RunFinished want0 = reference.finished(Experiment.runId("ref-spectra", r)).orElseThrow();
            assertEquals(want0.getWeightedFrobenius(), finished.getWeightedFrobenius(), 1e-9 * want0.getWeightedFrobenius());
            assertEquals(want0.getEffectiveCurvature(), finished.getEffectiveCurvature(),
                    1e-9 * Math.max(1, Math.abs(want0.getEffectiveCurvature())));
        }
    }

    @Test
    void runsOfOneBlockLeftAtDifferentCheckpointsWaitForEachOtherAndTrainAsIfNeverStopped() {
        TrainerSettings settings = settings("ens-mixed", "adam").build();
        CheckpointStore store = new CheckpointStore(dir, "ens-mixed");
        Path older = dir.resolve("r00004-at-20.ckpt");
        String run4 = Experiment.runId("ens-mixed", 4);
        // At t = 25, run 4's checkpoint is the one of t = 20: keep it, and put it back after the crash, as if the crash
        // had come between the writes of run 3's and run 4's checkpoints of t = 30.
        Runnable keep = () -> copy(store.file(run4), older);
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        assertThrows(IllegalStateException.class, new Experiment(settings, before, crashAfter(37, keep))::run);
        copy(older, store.file(run4));
        assertEquals(20, store.read(run4).map(RunCheckpoint::nextIteration).orElseThrow());

        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        ExperimentResult result = new Experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming())
                .build(), after, ExperimentListener.none()).run();
        assertEquals(List.of(30, 20), result.runs().stream().map(RunResult::resumedFrom).toList());
        InMemoryTelemetrySink reference = reference(settings, "mixed-ref");
        for (int r = 3; r < 5; r++) {
            String runId = Experiment.runId("ens-mixed", r);
            List<IterationMetrics> all = new ArrayList<>(before.iterations(runId));
            all.addAll(after.iterations(runId));
            assertEquals(r == 3 ? 30 : 40, after.iterations(runId).size(), runId + " " + result.runs());
            assertUninterrupted(all, reference.iterations(Experiment.runId("mixed-ref", r)), runId);
            assertEquals(RunStatus.COMPLETED, after.finished(runId).orElseThrow().getStatus());
        }
        // Until t = 30 the block's frames carry run 4 only; from there both.
        for (Frame frame : after.frames()) {
            assertEquals(frame.iteration() < 30 ? List.of(run4) : List.of(Experiment.runId("ens-mixed", 3), run4),
                    frame.runIds(), "t = " + frame.iteration());
        }
    }

    @Test
    void aCancelledBlockIsSuspendedWithoutRunFinishedAndResumesWithoutPublishingAnyIterationTwice() {
        // Checkpoints only when a run stops (every = 0): the cancel itself saves the state.
        TrainerSettings settings = settings("ens-suspend", "diagonal").checkpoint(CheckpointSettings.every(dir, 0)).build();
        Experiment[] experiment = new Experiment[1];
        ExperimentListener cancelAt23 = new ExperimentListener() {
            @Override
            public void iterationsDone(Frame frame) {
                if (frame.iteration() == 22) {
                    experiment[0].cancel();
                }
            }
        };
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        experiment[0] = new Experiment(settings, before, cancelAt23);
        ExperimentResult stopped = experiment[0].run();
        assertEquals(3, stopped.suspended());
        assertTrue(before.runsFinished().isEmpty(), "a suspended run is not finished downstream");

        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        // The same workers: ND4J's op threads (cores / workers) can change the last bits of its reductions.
        ExperimentResult resumed = new Experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming())
                .build(), after, ExperimentListener.none()).run();
        assertEquals(5, resumed.count(RunStatus.COMPLETED));
        InMemoryTelemetrySink reference = reference(settings, "suspend-ref");
        for (int r = 0; r < 5; r++) {
            String runId = Experiment.runId("ens-suspend", r);
            List<IterationMetrics> all = new ArrayList<>(before.iterations(runId));
            all.addAll(after.iterations(runId));
            assertEquals(T, all.size(), runId + ": each iteration exactly once");
            assertUninterrupted(all, reference.iterations(Experiment.runId("suspend-ref", r)), runId);
            assertEquals(r < 3 ? 23 : 0, resumed.runs().get(r).resumedFrom(), runId + ": runs that never started start afresh");
        }
    }

    private static void copy(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
