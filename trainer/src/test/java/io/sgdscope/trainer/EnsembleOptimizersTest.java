package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every optimizer on the ensemble engine (per-run state held column-wise, {@link EnsembleOptimizer}) publishes, run
 * for run, what the per-run engine publishes for the same seeds: every field of RunStarted, IterationMetrics (the
 * step size eta_t each run took included) and RunFinished, float64, to a relative 1e-9
 * ({@link ExperimentEnginesTest#assertSameFields}).
 */
class EnsembleOptimizersTest {

    private static InMemoryTelemetrySink train(TrainerSettings settings) {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Engines.experiment(settings, sink, ExperimentListener.none()).run();
        return sink;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adaptive", "diagonal", "adam"})
    void theEnsembleStepsEveryRunAsThePerRunEngineDoes(String name) {
        // 4 runs of Gauss-10 in blocks of 3 (3 + 1), the moments and L every 10 iterations (Theorem 3's rules use
        // them there, and L in between), the test set every 10.
        int runs = 4;
        int iterations = 60;
        TrainerSettings perRun = TrainerSettings.builder().experimentId("optim-" + name).runs(runs).iterations(iterations)
                .workers(2).learningRate(name.equals("adam") ? 0.01 : 0.1).optimizer(OptimizerSettings.named(name))
                .curvature(CurvatureSettings.off().withMomentsEvery(10)).engine(Engine.PER_RUN).build();
        TrainerSettings ensemble = perRun.toBuilder().engine(Engine.ENSEMBLE).ensembleBlock(3).build();
        InMemoryTelemetrySink expected = train(perRun);
        InMemoryTelemetrySink actual = train(ensemble);

        Set<String> published = new TreeSet<>();
        Set<Double> stepSizes = new TreeSet<>();
        for (int r = 0; r < runs; r++) {
            String runId = Experiment.runId(perRun.experimentId(), r);
            ExperimentEnginesTest.assertSameFields(expected.started(runId).orElseThrow(),
                    actual.started(runId).orElseThrow(), runId, published);
            List<IterationMetrics> a = expected.iterations(runId);
            List<IterationMetrics> b = actual.iterations(runId);
            assertEquals(iterations, a.size(), runId);
            assertEquals(a.size(), b.size(), runId);
            for (int t = 0; t < a.size(); t++) {
                ExperimentEnginesTest.assertSameFields(a.get(t), b.get(t), runId + " t = " + t, published);
                stepSizes.add(b.get(t).getStepSize());
            }
            ExperimentEnginesTest.assertSameFields(expected.finished(runId).orElseThrow(),
                    actual.finished(runId).orElseThrow(), runId, published);
            assertEquals(RunStatus.COMPLETED, actual.finished(runId).orElseThrow().getStatus(), runId);
            assertTrue(a.get(iterations - 1).getLoss() < a.get(0).getLoss(), runId + " learns");
        }
        assertEquals("ensemble", actual.runsStarted().get(0).getSettings().get("engine"));
        assertEquals(name, actual.runsStarted().get(0).getSettings().get("optimizer.name"));
        if (name.equals("sgd")) {
            assertEquals(Set.of(0.1), stepSizes, "vanilla SGD's constant eta");
        } else {
            // The rule's own eta_t (Eq. 35) or effective step (Eq. 36, 39), different from run to run and step to step.
            assertTrue(stepSizes.size() > iterations, name + " published " + stepSizes.size() + " distinct step sizes");
            assertNotEquals(Set.of(perRun.learningRate()), stepSizes);
        }
    }
}
