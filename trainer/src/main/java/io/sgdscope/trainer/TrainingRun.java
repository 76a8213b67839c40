package io.sgdscope.trainer;

import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetDescription;
import io.sgdscope.trainer.model.Evaluation;
import io.sgdscope.trainer.model.Mlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.Sgd;
import io.sgdscope.trainer.optim.StochasticGradients;
import io.sgdscope.trainer.snapshot.SnapshotWriter;
import io.sgdscope.trainer.telemetry.TelemetryException;
import io.sgdscope.trainer.telemetry.TelemetrySink;
import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One run of an {@link Experiment}: theta_0 from the run's seed, then T iterations of vanilla SGD
 * (Eq. 8), publishing RunStarted, one IterationMetrics per iteration and RunFinished.
 *
 * <p>Iteration t, at theta_t: f(theta_t) and the training accuracy on the full training set
 * (Eq. 3); a minibatch of m samples drawn with replacement; its loss and the stochastic gradient
 * g_t; ||g_t|| and cos(g_t, g_{t-1}) (Fig. 8); the curvature quantities due at t
 * ({@link RunCurvature}: moments and L in the record, a SpectrumSnapshot after it, a snapshot
 * folder); the record is published; then theta_{t+1} = theta_t - eta g_t. A non-finite loss or
 * gradient ends the run as DIVERGED right after its record is published. RunFinished carries the
 * Corollary 4 terms at theta_T.
 */
final class TrainingRun {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final int runIndex;
    private final String runId;
    private final long seed;
    private final Provenance provenance;
    private final TelemetrySink sink;
    private final ExperimentListener listener;
    private final StepObserver observer;
    private final BooleanSupplier cancelled;

    TrainingRun(TrainerSettings settings, Dataset dataset, int runIndex, Provenance provenance, TelemetrySink sink,
                ExperimentListener listener, StepObserver observer, BooleanSupplier cancelled) {
        this.settings = settings;
        this.dataset = dataset;
        this.runIndex = runIndex;
        this.runId = Experiment.runId(settings.experimentId(), runIndex);
        this.seed = Experiment.runSeed(settings.baseSeed(), runIndex);
        this.provenance = provenance;
        this.sink = sink;
        this.listener = listener;
        this.observer = observer;
        this.cancelled = cancelled;
    }

    /**
     * Trains the run to its end, whatever the end is. Once RunStarted is published, a RunFinished
     * always follows.
     *
     * @throws TelemetryException if the sink cannot take RunStarted or RunFinished at all
     */
    RunResult call() {
        long startNanos = System.nanoTime();
        MlpArchitecture architecture = new MlpArchitecture(settings.layers());
        RunStarted started = runStarted(architecture);
        sink.runStarted(started);

        RunStatus status = RunStatus.COMPLETED;
        String message = null;
        Double finalLoss = null;
        GeneralizationTerms finalTerms = null;
        int published = 0;
        RunCurvature curvature = null;
        try (Mlp model = new Mlp(architecture, settings.precision())) {
            listener.runStarted(started);
            SplittableRandom runRandom = new SplittableRandom(seed);
            model.initialize(settings.initialization(), runRandom.split());
            curvature = new RunCurvature(settings, runId, seed, model.parameters());
            MinibatchSampler sampler = new MinibatchSampler(dataset.samples(), settings.batchSize(), runRandom.split());
            Sgd sgd = new Sgd(settings.learningRate());
            INDArray gradient = model.gradient();
            INDArray previous = Nd4j.zeros(gradient.dataType(), gradient.length());
            double previousNorm = 0;
            for (int t = 0; t < settings.iterations(); t++) {
                if (cancelled.getAsBoolean()) {
                    status = RunStatus.CANCELLED;
                    message = "experiment cancelled before iteration " + t;
                    break;
                }
                Evaluation evaluation = model.evaluate(dataset);                        // f(theta_t), Eq. 3
                double minibatchLoss = model.lossAndGradient(dataset, sampler.next());  // g_t, Eq. 8
                double sgNorm = StochasticGradients.norm(gradient);
                Double sgCosPrev = t == 0 ? null : StochasticGradients.cosine(gradient, sgNorm, previous, previousNorm);
                observer.step(runId, t, model.parameters(), gradient);
                RunCurvature.Measured measured = Double.isFinite(evaluation.loss())
                        ? curvature.at(t, model, dataset) : RunCurvature.Measured.NOTHING;
                IterationMetrics record = iterationMetrics(t, evaluation, minibatchLoss, sgNorm, sgCosPrev, measured);
                sink.iteration(record);
                published++;
                if (measured.spectrum() != null) {
                    sink.spectrum(measured.spectrum());
                }
                listener.iterationDone(record);
                if (settings.curvature().snapshotAt(t)) {
                    writeSnapshot(t, model, curvature, record, measured.spectrum());
                }

                String divergence = divergence(t, evaluation.loss(), minibatchLoss, sgNorm);
                if (divergence != null) {
                    status = RunStatus.DIVERGED;
                    message = divergence;
                    break;
                }
                sgd.step(model.parameters(), gradient);                                 // Eq. 8, 23
                Nd4j.getBlasWrapper().level1().copy(gradient, previous);
                previousNorm = sgNorm;
            }
            finalLoss = model.loss(dataset);                                            // f at the last theta
            if (status == RunStatus.COMPLETED && !Double.isFinite(finalLoss)) {
                status = RunStatus.DIVERGED;
                message = "loss f(theta_T) after the last update is " + finalLoss;
            }
            if (Double.isFinite(finalLoss)) {
                finalTerms = curvature.finish(model, dataset);                          // Corollary 4 at theta_T
            }
        } catch (RuntimeException e) {
            status = RunStatus.FAILED;
            message = e.toString();
            finalLoss = null;
            finalTerms = null;
        } finally {
            if (curvature != null) {
                curvature.close();
            }
        }

        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long dropped = sink.droppedRecords(runId);
        RunFinished finished = RunFinished.newBuilder()
                .setRunId(runId)
                .setExperimentId(settings.experimentId())
                .setStatus(status)
                .setIterations(published)
                .setFinishedAtMillis(System.currentTimeMillis())
                .setDurationSeconds(seconds)
                .setFinalLoss(finalLoss)
                .setDroppedRecords(dropped)
                .setMessage(message)
                .setHessianDiagonalMethod(finalTerms == null ? null : "exact")
                .setPriorSigma(finalTerms == null ? null : finalTerms.priorSigma())
                .setEffectiveCurvature(finalTerms == null ? null : finalTerms.effectiveCurvature())
                .setWeightedFrobenius(finalTerms == null ? null : finalTerms.weightedFrobenius())
                .setGeneralizationBound(finalTerms == null ? null : finalTerms.bound())
                .build();
        sink.runFinished(finished);
        listener.runFinished(finished);
        return new RunResult(runId, runIndex, seed, status, published, finalLoss, dropped, message, seconds);
    }

    /** Why the run diverged at iteration t, or null if all is finite. */
    static String divergence(int t, double loss, double minibatchLoss, double sgNorm) {
        if (!Double.isFinite(loss)) {
            return "loss f(theta_t) is " + loss + " at t = " + t;
        }
        if (!Double.isFinite(minibatchLoss)) {
            return "minibatch loss is " + minibatchLoss + " at t = " + t;
        }
        if (!Double.isFinite(sgNorm)) {
            return "stochastic gradient norm ||g_t|| is " + sgNorm + " at t = " + t;
        }
        return null;
    }

    /** Writes DIR/runId/t/ from the records just published (the values that went to Kafka). */
    private void writeSnapshot(int t, Mlp model, RunCurvature curvature, IterationMetrics record,
                               SpectrumSnapshot spectrum) {
        try {
            SnapshotWriter.write(settings.curvature().snapshotDir(), runId, t, model.architecture(), dataset.features(),
                    dataset.labels(), model.parameters(), curvature.initialParameters(), settings.curvature().topK(),
                    settings.priorSigma(), record, spectrum);
        } catch (IOException e) {
            throw SnapshotWriter.unchecked(runId + " at t = " + t, e);
        }
    }

    private IterationMetrics iterationMetrics(int t, Evaluation evaluation, double minibatchLoss, double sgNorm,
                                              Double sgCosPrev, RunCurvature.Measured measured) {
        GradientMoments moments = measured.moments();
        return IterationMetrics.newBuilder()
                .setRunId(runId)
                .setExperimentId(settings.experimentId())
                .setIteration(t)
                .setTimestampMillis(System.currentTimeMillis())
                .setLoss(evaluation.loss())
                .setMinibatchLoss(minibatchLoss)
                .setStepSize(settings.learningRate())
                .setBatchSize(settings.batchSize())
                .setSgNorm(sgNorm)
                .setSgCosPrev(sgCosPrev)
                .setTrainAccuracy(evaluation.accuracy())
                .setGradNormSq(moments == null ? null : moments.gradNormSq())
                .setTraceM(moments == null ? null : moments.traceM())
                .setTraceSigma(moments == null ? null : moments.traceSigma())
                .setSigmaFrobenius(moments == null ? null : moments.sigmaFrobenius())
                .setSigmaSpectral(moments == null ? null : moments.sigmaSpectral())
                .setSigmaHalfMuNorm(moments == null ? null : moments.sigmaHalfMuNorm())
                .setHessianSpectralNorm(measured.hessianSpectralNorm())
                .setProbeSeconds(measured.probeSeconds())
                .build();
    }

    private RunStarted runStarted(MlpArchitecture architecture) {
        DatasetDescription data = dataset.description();
        return RunStarted.newBuilder()
                .setRunId(runId)
                .setExperimentId(settings.experimentId())
                .setRunIndex(runIndex)
                .setSeed(seed)
                .setStartedAtMillis(System.currentTimeMillis())
                .setPlannedIterations(settings.iterations())
                .setDataset(DatasetSpec.newBuilder()
                        .setName(data.name())
                        .setSamples(data.samples())
                        .setInputDimension(data.inputDimension())
                        .setClasses(data.classes())
                        .setRandomLabelFraction(data.randomLabelFraction())
                        .setStandardized(data.standardized())
                        .setSeed(data.seed())
                        .setSource(data.source())
                        .build())
                .setModel(ModelSpec.newBuilder()
                        .setLayers(List.copyOf(architecture.layers()))
                        .setActivation("relu")
                        .setLoss("softmax_cross_entropy")
                        .setParameterCount(architecture.parameterCount())
                        .setInitialization(settings.initialization().id())
                        .build())
                .setOptimizer(OptimizerSpec.newBuilder()
                        .setName(Sgd.NAME)
                        .setLearningRate(settings.learningRate())
                        .setBatchSize(settings.batchSize())
                        .setSampling("with-replacement")
                        .build())
                .setPrecision(settings.precision().id())
                .setBackend(provenance.backend())
                .setDevice(provenance.device())
                .setHost(provenance.host())
                .setVersions(provenance.versions())
                .setSettings(settings.asMap())
                .build();
    }
}
