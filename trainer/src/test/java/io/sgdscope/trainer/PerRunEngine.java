package io.sgdscope.trainer;

import io.sgdscope.client.TelemetrySink;
import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.checkpoint.RunCheckpoint;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.Splits;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The retired per-run engine ({@link Engine#PER_RUN}): each run on its own network ({@link TrainingRun}), one run at
 * a time per worker thread, with every optimizer, the curvature probes ({@link PerRunCurvature}), snapshot folders,
 * checkpoints and resume. {@code sgdscope train} no longer runs it (issue 15); it stays here, in the trainer's test
 * tree and its test jar, as the reference the ensemble engine is checked against ({@code ExperimentEnginesTest}: a
 * block of one run, and larger blocks, give its records) and for the tests that look at each step of a run
 * ({@link StepObserver}).
 *
 * <p>Its experiments are {@link Experiment}s (the same settings checks, resume plan, workers, cancelling and failure
 * handling) whose tasks are single runs; their settings name the per-run engine, whatever {@code settings.engine()}
 * said, so that RunStarted.settings["engine"] says which engine made the run.
 */
public final class PerRunEngine {

    private PerRunEngine() {}

    /** An experiment of the per-run engine on the data its settings describe, loaded here. */
    public static Experiment experiment(TrainerSettings settings, TelemetrySink sink, ExperimentListener listener) {
        return experiment(settings, settings.dataset().load(), sink, listener, StepObserver.none());
    }

    /** An experiment of the per-run engine on a given training set without a test set, with an observer of every step. */
    public static Experiment experiment(TrainerSettings settings, Dataset dataset, TelemetrySink sink,
                                        ExperimentListener listener, StepObserver observer) {
        return experiment(settings, new Splits(dataset, Optional.empty()), sink, listener, observer);
    }

    /** An experiment of the per-run engine on given data, with an observer of every step. */
    public static Experiment experiment(TrainerSettings settings, Splits data, TelemetrySink sink,
                                        ExperimentListener listener, StepObserver observer) {
        TrainerSettings perRun = settings.toBuilder().engine(Engine.PER_RUN).build();
        return new Experiment(perRun, data, sink, listener, (experiment, provenance, workers) ->
                runs(experiment, provenance, observer));
    }

    /** One task per run still to train (fresh, or continuing from its checkpoint), in run order. */
    private static List<Supplier<List<RunResult>>> runs(Experiment experiment, Provenance provenance,
                                                       StepObserver observer) {
        TrainerSettings settings = experiment.settings();
        ResumePlan plan = experiment.plan();
        List<Supplier<List<RunResult>>> runs = new ArrayList<>();
        for (int index = settings.firstRun(); index < settings.endRun(); index++) {
            if (plan.isFinished(index)) {
                continue;
            }
            int runIndex = index;
            runs.add(() -> {
                String runId = Experiment.runId(settings.experimentId(), runIndex);
                RunCheckpoint from = plan.isResumable(runIndex) ? experiment.store().read(runId).orElseThrow(() ->
                        new CheckpointException("the checkpoint of " + runId + " disappeared from "
                                + experiment.store().folder())) : null;
                return List.of(new TrainingRun(settings, experiment.dataset(), experiment.testSet(), runIndex,
                        provenance, experiment.sink(), experiment.listener(), observer, experiment::isCancelled,
                        experiment.store(), from).call());
            });
        }
        return runs;
    }
}
