package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs killed in-process after a checkpoint (an injected crash, or a cancel) and resumed: every iteration is
 * published, the ones published twice are identical, and the resumed run trains exactly what an uninterrupted
 * run of the same seed trains (float64, bit for bit).
 */
class CheckpointResumeTest {

    private static final int T = 60;

    @TempDir
    Path dir;

    /** Crashes the run like a killed process: an Error, which ends the run without a RunFinished. */
    private static StepObserver crashAt(String runId, int iteration) {
        return (id, t, theta, gradient) -> {
            if (id.equals(runId) && t == iteration) {
                throw new AssertionError("simulated crash of " + id + " at t = " + t);
            }
        };
    }

    private TrainerSettings.Builder settings(String experimentId, String optimizer) {
        return TrainerSettings.builder().experimentId(experimentId).runs(2).iterations(T).workers(1)
                .optimizer(OptimizerSettings.named(optimizer))
                .curvature(CurvatureSettings.off().withMomentsEvery(5).withSpectrumEvery(20).withTopK(3))
                .checkpoint(CheckpointSettings.every(dir, 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adaptive", "diagonal", "adam"})
    void aCrashedRunResumedFromItsCheckpointPublishesEveryIterationAsAnUninterruptedRunWould(String optimizer) {
        TrainerSettings settings = settings("crash-" + optimizer, optimizer).build();
        String crashed = Experiment.runId(settings.experimentId(), 1);

        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        Experiment first = PerRunEngine.experiment(settings, settings.dataset().load(), before, ExperimentListener.none(),
                crashAt(crashed, 37));
        IllegalStateException crash = assertThrows(IllegalStateException.class, first::run);
        assertTrue(crash.getMessage().contains("simulated crash"), crash.getMessage());
        assertTrue(before.finished(crashed).isEmpty(), "a crashed run publishes no RunFinished");
        assertEquals(37, before.iterations(crashed).size());

        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        Experiment resumed = PerRunEngine.experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build(), after,
                ExperimentListener.none());
        assertEquals(new ResumePlan(java.util.Set.of(0), Map.of(1, 30), 0), resumed.plan());
        ExperimentResult result = resumed.run();
        assertEquals(1, result.skipped(), "run 0 had finished: skipped");
        assertEquals(1, result.runs().size());
        assertEquals(30, result.runs().get(0).resumedFrom());
        assertTrue(after.iterations(Experiment.runId(settings.experimentId(), 0)).isEmpty());

        // Iterations 30..36 were published before the crash and again after it; nothing is missing.
        List<IterationMetrics> all = new ArrayList<>(before.iterations(crashed));
        all.addAll(after.iterations(crashed));
        assertEquals(T + 7, all.size());
        Map<Integer, IterationMetrics> once = firstOfEachIteration(all);
        assertEquals(IntStream.range(0, T).boxed().toList(), List.copyOf(once.keySet()));
        for (IterationMetrics again : after.iterations(crashed).subList(0, 7)) {
            assertSameValues(once.get(again.getIteration()), again);
        }
        assertEquals(before.runsStarted().get(1), after.runsStarted().get(0), "the resumed run publishes its RunStarted again");

        // The same seed, never interrupted.
        InMemoryTelemetrySink reference = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings.toBuilder().experimentId("ref-" + optimizer).checkpoint(CheckpointSettings.off()).build(),
                reference, ExperimentListener.none()).run();
        String referenceId = Experiment.runId("ref-" + optimizer, 1);
        List<IterationMetrics> uninterrupted = reference.iterations(referenceId);
        for (int t = 0; t < T; t++) {
            assertSameValues(uninterrupted.get(t), once.get(t));
        }
        List<SpectrumSnapshot> spectra = new ArrayList<>(before.spectra(crashed));
        spectra.addAll(after.spectra(crashed));
        assertEquals(List.of(0, 20, 40), spectra.stream().map(SpectrumSnapshot::getIteration).toList());
        assertEquals(reference.spectra(referenceId).get(2).getHessianEigenvalues(), spectra.get(2).getHessianEigenvalues(),
                "the spectrum after the resume, from the saved warm starts");
        RunFinished finished = after.finished(crashed).orElseThrow();
        RunFinished expected = reference.finished(referenceId).orElseThrow();
        assertEquals(RunStatus.COMPLETED, finished.getStatus());
        assertEquals(T, finished.getIterations());
        assertEquals(expected.getFinalLoss(), finished.getFinalLoss(), 0.0);
        assertEquals(expected.getGeneralizationBound(), finished.getGeneralizationBound(), 0.0);
    }

    @Test
    void aCancelledRunIsSuspendedWithoutRunFinishedAndResumesWithoutPublishingAnyIterationTwice() {
        // Checkpoints only when a run stops (every = 0): the cancel itself saves the state.
        TrainerSettings settings = settings("suspend", "adam").runs(3).checkpoint(CheckpointSettings.every(dir, 0)).build();
        String runId = Experiment.runId("suspend", 0);
        Experiment[] experiment = new Experiment[1];
        ExperimentListener cancelAt23 = new ExperimentListener() {
            @Override
            public void iterationDone(IterationMetrics record) {
                if (record.getIteration() == 22) {
                    experiment[0].cancel();
                }
            }
        };
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        experiment[0] = PerRunEngine.experiment(settings, before, cancelAt23);
        ExperimentResult stopped = experiment[0].run();
        assertEquals(1, stopped.suspended());
        assertEquals(2, stopped.notStarted());
        assertTrue(before.runsFinished().isEmpty(), "a suspended run is not finished downstream");
        assertEquals(23, before.iterations(runId).size());

        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        ExperimentResult resumed = PerRunEngine.experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming())
                .workers(2).build(), after, ExperimentListener.none()).run();
        assertEquals(3, resumed.count(RunStatus.COMPLETED));
        assertEquals(23, resumed.runs().get(0).resumedFrom());
        assertEquals(0, resumed.runs().get(1).resumedFrom(), "runs that never started start afresh");
        List<Integer> iterations = new ArrayList<>();
        before.iterations(runId).forEach(r -> iterations.add(r.getIteration()));
        after.iterations(runId).forEach(r -> iterations.add(r.getIteration()));
        assertEquals(IntStream.range(0, T).boxed().toList(), iterations, "each iteration exactly once, in order");

        InMemoryTelemetrySink reference = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings.toBuilder().experimentId("suspend-ref").checkpoint(CheckpointSettings.off()).build(), reference,
                ExperimentListener.none()).run();
        double[] losses = new double[T];
        for (int t = 0; t < T; t++) {
            losses[t] = (t < 23 ? before.iterations(runId).get(t) : after.iterations(runId).get(t - 23)).getLoss();
        }
        assertArrayEquals(reference.iterations("suspend-ref-r00000").stream().mapToDouble(IterationMetrics::getLoss).toArray(),
                losses, 0.0);
    }

    @Test
    void settingsThatChangeTheTrajectoryCannotResumeButTheWorkersMayChange() {
        TrainerSettings settings = settings("strict", "sgd").iterations(20).build();
        PerRunEngine.experiment(settings, new InMemoryTelemetrySink(), ExperimentListener.none()).run();
        TrainerSettings resuming = settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PerRunEngine.experiment(
                resuming.toBuilder().learningRate(0.05).build(), new InMemoryTelemetrySink(), ExperimentListener.none()));
        assertEquals("cannot resume strict-r00000: its checkpoint was made with learningRate = 0.1, the settings now have "
                + "0.05 (only workers and the checkpoint settings may change)", e.getMessage());
        ExperimentResult again = PerRunEngine.experiment(resuming.toBuilder().workers(3).build(), new InMemoryTelemetrySink(),
                ExperimentListener.none()).run();
        assertEquals(2, again.skipped(), "both runs had finished");
        assertTrue(again.runs().isEmpty());
    }

    @Test
    void startingAfreshOverAnExperimentsCheckpointsIsRefused() {
        TrainerSettings settings = settings("twice", "sgd").runs(1).iterations(12).build();
        PerRunEngine.experiment(settings, new InMemoryTelemetrySink(), ExperimentListener.none()).run();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PerRunEngine.experiment(settings, new InMemoryTelemetrySink(), ExperimentListener.none()));
        assertEquals("experiment twice already has checkpoints in " + dir.resolve("twice") + ": resume it (--resume), or "
                + "choose another experiment id or checkpoint folder", e.getMessage());
    }

    @Test
    void aDamagedOrTruncatedCheckpointIsNamedAndNothingIsLeftHalfWritten() throws IOException {
        TrainerSettings settings = settings("damaged", "adam").runs(1).iterations(25).build();
        Experiment[] experiment = new Experiment[1];
        ExperimentListener cancelAt = new ExperimentListener() {
            @Override
            public void iterationDone(IterationMetrics record) {
                if (record.getIteration() == 14) {
                    experiment[0].cancel();
                }
            }
        };
        experiment[0] = PerRunEngine.experiment(settings, new InMemoryTelemetrySink(), cancelAt);
        experiment[0].run();
        CheckpointStore store = new CheckpointStore(dir, "damaged");
        Path file = store.file("damaged-r00000");
        try (var files = Files.list(store.folder())) {
            assertEquals(List.of(file), files.toList(), "only the checkpoint: no temporary file left");
        }
        assertEquals(15, store.read("damaged-r00000").orElseThrow().nextIteration());

        byte[] bytes = Files.readAllBytes(file);
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x10;                                        // one bit of theta
        Files.write(file, flipped);
        CheckpointException damaged = assertThrows(CheckpointException.class, () -> store.read("damaged-r00000"));
        assertEquals("the checkpoint " + file + " is damaged (its checksum does not match)", damaged.getMessage());

        Files.write(file, Arrays.copyOf(bytes, bytes.length - 100));
        CheckpointException truncated = assertThrows(CheckpointException.class, () -> store.read("damaged-r00000"));
        assertEquals("the checkpoint " + file + " is truncated", truncated.getMessage());

        Files.writeString(file, "hello");
        CheckpointException foreign = assertThrows(CheckpointException.class,
                () -> PerRunEngine.experiment(settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build(),
                        new InMemoryTelemetrySink(), ExperimentListener.none()));
        assertEquals(file + " is not an sgdscope checkpoint", foreign.getMessage());
        assertFalse(Files.exists(store.folder().resolve("damaged-r00000.ckpt.tmp")));
    }

    @Test
    void resumingAnExperimentWithoutAnyCheckpointIsRefused() {
        TrainerSettings settings = settings("never-started", "sgd").build();
        TrainerSettings resuming = settings.toBuilder().checkpoint(settings.checkpoint().resuming()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResumePlan.of(resuming));
        assertEquals("--resume: experiment never-started has no checkpoint in " + dir.resolve("never-started")
                + " (nothing to continue; without --resume it starts afresh)", e.getMessage());
    }

    /** The first record of each iteration, in iteration order (the streams apps keep the first and drop the rest). */
    static Map<Integer, IterationMetrics> firstOfEachIteration(List<IterationMetrics> records) {
        Map<Integer, IterationMetrics> first = new TreeMap<>();
        for (IterationMetrics record : records) {
            first.putIfAbsent(record.getIteration(), record);
        }
        return first;
    }

    /** Every field but the ids and the wall-clock ones (timestamp, probe time) is equal, doubles bit for bit. */
    static void assertSameValues(IterationMetrics expected, IterationMetrics actual) {
        String at = "t = " + expected.getIteration();
        assertEquals(expected.getIteration(), actual.getIteration());
        assertEquals(expected.getLoss(), actual.getLoss(), 0.0, at);
        assertEquals(expected.getMinibatchLoss(), actual.getMinibatchLoss(), 0.0, at);
        assertEquals(expected.getStepSize(), actual.getStepSize(), 0.0, at);
        assertEquals(expected.getSgNorm(), actual.getSgNorm(), 0.0, at);
        assertEquals(expected.getSgCosPrev(), actual.getSgCosPrev(), at);
        assertEquals(expected.getTrainAccuracy(), actual.getTrainAccuracy(), at);
        assertEquals(expected.getTestLoss(), actual.getTestLoss(), at);
        assertEquals(expected.getTestAccuracy(), actual.getTestAccuracy(), at);
        assertEquals(expected.getGradNormSq(), actual.getGradNormSq(), at);
        assertEquals(expected.getTraceM(), actual.getTraceM(), at);
        assertEquals(expected.getSigmaSpectral(), actual.getSigmaSpectral(), at);
        assertEquals(expected.getHessianSpectralNorm(), actual.getHessianSpectralNorm(), at);
    }
}
