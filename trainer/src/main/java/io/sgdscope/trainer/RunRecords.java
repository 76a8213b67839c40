package io.sgdscope.trainer;

import io.sgdscope.client.ClientRecords;
import io.sgdscope.client.DataDescription;
import io.sgdscope.client.ModelDescription;
import io.sgdscope.client.RunDescription;
import io.sgdscope.client.RunPlacement;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetDescription;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.Arrays;

/**
 * The one place where the records an engine publishes about a run are built: RunStarted, IterationMetrics (the
 * per-run engine, {@code TrainingRun}, in the tests), the {@link Frame}s of the ensemble engine ({@link EnsembleBlock}: one
 * iteration of many runs, column by column) and RunFinished.
 *
 * <p>RunStarted is built by the client's {@link ClientRecords}, the one builder of it that every publisher shares,
 * from the {@link RunDescription} and {@link RunPlacement} made here. Every field of each other record is set here,
 * from the values the engine hands over; a value that is new to a
 * record becomes a parameter that both engines must supply (or pass as null, "not computed"), so neither engine
 * can leave a field out unnoticed. {@code ExperimentEnginesTest} then compares the two engines field by field,
 * walking the Avro schemas, and {@code RunRecordsTest} checks that every field is set from its input.
 *
 * <p>IterationMetrics, one per run and iteration, is filled with the generated setters, every field set: the
 * generated builder took 200-400 ns a record against ~65 ns (measured here), a few per cent of an ensemble's
 * whole training step per run. RunStarted and RunFinished, one per run, use the builders, which also refuse a
 * required field left unset. A frame is built straight from the ensemble's arrays (no object per run); its columns
 * are chosen in one exhaustive switch over {@link FrameColumn}, so a new column does not compile until it is
 * decided here.
 *
 * <p>Not thread-safe (a frame's constant columns are cached): one instance per engine thread.
 */
final class RunRecords {

    private final TrainerSettings settings;
    private final Dataset dataset;
    private final Provenance provenance;
    private final MlpArchitecture architecture;
    /** How the experiment's runs are made, for their RunStarted (built by the client's {@link ClientRecords}). */
    private final RunDescription runs;
    /** The constant columns (step size, batch size) of the last frame size, shared by frames of that size. */
    private double[] stepSizeColumn = new double[0];
    private double[] batchSizeColumn = new double[0];

    RunRecords(TrainerSettings settings, Dataset dataset, Provenance provenance) {
        this.settings = settings;
        this.dataset = dataset;
        this.provenance = provenance;
        this.architecture = new MlpArchitecture(settings.layers());
        this.runs = describe(settings, dataset, provenance, architecture);
    }

    /**
     * The RunStarted of run {@code runIndex}, with the full provenance of how it is made. It names its shard
     * (shardIndex i, shardCount N) only when the experiment is sharded ({@code --shard i/N}, N > 1).
     *
     * @param frameKey the Kafka key of the frames that carry the run's iterations (the ensemble engine: the first run
     *                 id of its frame's runs), or null when the run publishes an IterationMetrics per iteration keyed
     *                 by its own id (the per-run engine)
     */
    RunStarted started(int runIndex, long seed, String frameKey) {
        boolean sharded = settings.shard().isPart();
        RunPlacement placement = new RunPlacement(provenance.device(), provenance.host(),
                sharded ? settings.shard().index() : null, sharded ? settings.shard().count() : null);
        return ClientRecords.started(runs.forRun(runIndex, seed), frameKey, placement);
    }

    /**
     * The description of the experiment's runs (shown as run 0) that {@link ClientRecords} builds their RunStarted
     * from: the trainer's settings, training set and provenance, its settings map in {@link TrainerSettings#asMap}'s
     * order.
     */
    private static RunDescription describe(TrainerSettings settings, Dataset dataset, Provenance provenance,
                                           MlpArchitecture architecture) {
        DatasetDescription data = dataset.description();
        return new RunDescription(settings.experimentId(), 0, settings.baseSeed(), settings.iterations(),
                settings.runs(),                               // the whole experiment's R, over every shard
                new DataDescription(data.name(), data.samples(), data.inputDimension(), data.classes(),
                        data.randomLabelFraction(), data.standardized(), data.seed(), data.source()),
                new ModelDescription(architecture.layers(), null, architecture.parameterCount(), "relu",
                        "softmax_cross_entropy", settings.initialization().id()),
                settings.optimizer().provenanceName(), settings.learningRate(), settings.batchSize(), "with-replacement",
                settings.precision().id(), provenance.backend(), provenance.versions(), settings.asMap());
    }

    /**
     * The IterationMetrics of iteration t of a run, all at theta_t before its update (the schema documents each
     * field).
     *
     * @param loss          f(theta_t) on the full training set (Eq. 3)
     * @param trainAccuracy accuracy on the full training set at theta_t
     * @param minibatchLoss the loss of the minibatch that gave g_t
     * @param stepSize      the step eta_t the optimizer took (Eq. 8, 35, 36, 39)
     * @param sgNorm        ||g_t|| (Fig. 8)
     * @param sgCosPrev     cos(g_t, g_{t-1}) (Fig. 8), null at t = 0 or for a zero gradient
     * @param testLoss      f on the held-out set, null when not evaluated at t
     * @param testAccuracy  accuracy on the held-out set, null when not evaluated at t
     * @param paramDistance ||theta_t - theta_0||_2, the distance from the run's initialisation (Corollary 4, Eq. 52)
     * @param measured      the curvature quantities computed at t ({@link RunCurvature.Measured#NOTHING} if none)
     */
    IterationMetrics iteration(String runId, int t, double loss, double trainAccuracy, double minibatchLoss,
                               double stepSize, double sgNorm, Double sgCosPrev, Double testLoss, Double testAccuracy,
                               double paramDistance, RunCurvature.Measured measured) {
        GradientMoments moments = measured.moments();
        IterationMetrics record = new IterationMetrics();
        record.setRunId(runId);
        record.setExperimentId(settings.experimentId());
        record.setIteration(t);
        record.setTimestampMillis(System.currentTimeMillis());
        record.setLoss(loss);
        record.setMinibatchLoss(minibatchLoss);
        record.setStepSize(stepSize);
        record.setBatchSize(settings.batchSize());
        record.setSgNorm(sgNorm);
        record.setSgCosPrev(sgCosPrev);
        record.setTrainAccuracy(trainAccuracy);
        record.setGradNormSq(moments == null ? null : moments.gradNormSq());                 // Eq. 4
        record.setTraceM(moments == null ? null : moments.traceM());                         // Eq. 7
        record.setTraceSigma(moments == null ? null : moments.traceSigma());                 // Eq. 5
        record.setSigmaFrobenius(moments == null ? null : moments.sigmaFrobenius());
        record.setSigmaSpectral(moments == null ? null : moments.sigmaSpectral());
        record.setSigmaHalfMuNorm(moments == null ? null : moments.sigmaHalfMuNorm());
        record.setHessianSpectralNorm(measured.hessianSpectralNorm());                       // Eq. 6
        record.setProbeSeconds(measured.probeSeconds());
        record.setTestLoss(testLoss);
        record.setTestAccuracy(testAccuracy);
        record.setParamDistance(paramDistance);                                              // Eq. 52
        return record;
    }

    /**
     * The RunFinished of a run, however it ended.
     *
     * @param iterations the iterations whose records were handed to the sink
     * @param finalLoss  f(theta_T) after the last update, null if never computed
     * @param dropped    the run's records the producer dropped
     * @param message    why it ended other than COMPLETED, else null
     * @param terms      Corollary 4's terms at theta_T (Eq. 51-52), null when not computed
     * @param frameKey   as in {@link #started}: the key of the frames that carried its iterations, null if none did
     */
    RunFinished finished(String runId, RunStatus status, int iterations, double seconds, Double finalLoss, long dropped,
                         String message, GeneralizationTerms terms, String frameKey) {
        RunFinished record = ClientRecords.finished(runId, settings.experimentId(), status, iterations, seconds, finalLoss,
                dropped, message, frameKey);
        if (terms != null) {
            record.setHessianDiagonalMethod("exact");
            record.setPriorSigma(terms.priorSigma());
            record.setEffectiveCurvature(terms.effectiveCurvature());
            record.setWeightedFrobenius(terms.weightedFrobenius());
            record.setGeneralizationBound(terms.bound());
        }
        return record;
    }

    /**
     * The frame of iteration t of several runs trained together (the ensemble engine), all at theta_t before the
     * update: element i of each array belongs to {@code runIds[i]}, with the meaning of the IterationMetrics field
     * of the same name ({@link #iteration}). The arrays are taken as they are (not copied): the caller must not
     * change them afterwards. The curvature columns (the moments of Eq. 4-7, L, the probe time) are present at the
     * iterations the block probed, absent at the others.
     *
     * @param loss          f(theta_t) on the full training set (Eq. 3)
     * @param trainAccuracy accuracy on the full training set at theta_t
     * @param minibatchLoss the loss of the minibatch that gave g_t
     * @param stepSize      the step eta every run took (Eq. 8)
     * @param sgNorm        ||g_t|| (Fig. 8)
     * @param sgCosPrev     cos(g_t, g_{t-1}) (Fig. 8); null when no run has one (t = 0)
     * @param sgCosMissing  true where a run has none (a zero gradient); null when every run has one
     * @param testLoss      f on the held-out set, null when not evaluated at t
     * @param testAccuracy  accuracy on the held-out set, null when not evaluated at t
     * @param paramDistance ||theta_t - theta_0||_2 of each run (Corollary 4, Eq. 52)
     * @param curvature     the moments, L and probe time of these runs ({@link EnsembleCurvature}), null when not
     *                      computed at t
     */
    Frame frame(String[] runIds, int t, double[] loss, double[] trainAccuracy, double[] minibatchLoss, double stepSize,
                double[] sgNorm, double[] sgCosPrev, boolean[] sgCosMissing, double[] testLoss, double[] testAccuracy,
                double[] paramDistance, EnsembleCurvature.Columns curvature) {
        int n = runIds.length;
        if (stepSizeColumn.length != n || stepSizeColumn.length > 0 && stepSizeColumn[0] != stepSize) {
            stepSizeColumn = new double[n];
            Arrays.fill(stepSizeColumn, stepSize);
        }
        return frame(runIds, t, loss, trainAccuracy, minibatchLoss, stepSizeColumn, sgNorm, sgCosPrev, sgCosMissing,
                testLoss, testAccuracy, paramDistance, curvature);
    }

    /**
     * {@link #frame(String[], int, double[], double[], double[], double, double[], double[], boolean[], double[],
     * double[], double[], EnsembleCurvature.Columns) The frame} with a step size per run: the step eta_t each run's optimizer
     * took (Eq. 8, 35, 36, 39), taken as it is like the other columns.
     */
    Frame frame(String[] runIds, int t, double[] loss, double[] trainAccuracy, double[] minibatchLoss, double[] stepSizes,
                double[] sgNorm, double[] sgCosPrev, boolean[] sgCosMissing, double[] testLoss, double[] testAccuracy,
                double[] paramDistance, EnsembleCurvature.Columns curvature) {
        int n = runIds.length;
        if (batchSizeColumn.length != n) {
            batchSizeColumn = new double[n];
            Arrays.fill(batchSizeColumn, settings.batchSize());
        }
        Frame.Builder frame = Frame.builder(settings.experimentId(), t, System.currentTimeMillis(), runIds);
        for (FrameColumn column : FrameColumn.all()) {
            double[] values = switch (column) {
                case LOSS -> loss;                                                              // Eq. 3
                case MINIBATCH_LOSS -> minibatchLoss;
                case STEP_SIZE -> stepSizes;                                                    // Eq. 8, 35, 36, 39
                case BATCH_SIZE -> batchSizeColumn;
                case SG_NORM -> sgNorm;
                case SG_COS_PREV -> sgCosPrev;
                case TRAIN_ACCURACY -> trainAccuracy;
                case TEST_LOSS -> testLoss;
                case TEST_ACCURACY -> testAccuracy;
                case PARAM_DISTANCE -> paramDistance;                                           // Eq. 52
                case GRAD_NORM_SQ -> curvature == null ? null : curvature.gradNormSq();          // Eq. 4
                case TRACE_M -> curvature == null ? null : curvature.traceM();                    // Eq. 7
                case TRACE_SIGMA -> curvature == null ? null : curvature.traceSigma();            // Eq. 5
                case SIGMA_FROBENIUS -> curvature == null ? null : curvature.sigmaFrobenius();
                case SIGMA_SPECTRAL -> curvature == null ? null : curvature.sigmaSpectral();
                case SIGMA_HALF_MU_NORM -> curvature == null ? null : curvature.sigmaHalfMuNorm();
                case HESSIAN_SPECTRAL_NORM -> curvature == null ? null : curvature.hessianSpectralNorm();   // Eq. 6
                case PROBE_SECONDS -> curvature == null ? null : curvature.probeSeconds();
            };
            if (values != null) {
                boolean[] missing = column == FrameColumn.SG_COS_PREV ? sgCosMissing
                        : isCurvature(column) ? curvature.missingOrNull() : null;
                frame.column(column, values, missing);
            }
        }
        return frame.build();
    }

    private static boolean isCurvature(FrameColumn column) {
        return switch (column) {
            case GRAD_NORM_SQ, TRACE_M, TRACE_SIGMA, SIGMA_FROBENIUS, SIGMA_SPECTRAL, SIGMA_HALF_MU_NORM,
                    HESSIAN_SPECTRAL_NORM, PROBE_SECONDS -> true;
            default -> false;
        };
    }
}
