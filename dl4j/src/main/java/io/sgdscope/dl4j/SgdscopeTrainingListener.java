package io.sgdscope.dl4j;

import io.sgdscope.client.GradientStatistics;
import io.sgdscope.client.GradientTracker;
import io.sgdscope.client.RunPublisher;
import io.sgdscope.client.Step;
import io.sgdscope.dl4j.curvature.CurvatureProbe;
import io.sgdscope.dl4j.curvature.Dl4jSnapshots;
import io.sgdscope.dl4j.curvature.ProbeMoments;
import io.sgdscope.dl4j.curvature.ProbeSpectrum;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A DL4J {@code TrainingListener} that publishes every iteration of a {@link MultiLayerNetwork} or
 * {@link ComputationGraph} through a sgdscope {@link RunPublisher}: one IterationMetrics per iteration t with
 * <ul>
 *   <li>{@code loss}: f(theta_t) on the {@link ProbeSet} (the training set, or a documented subset; Eq. 3), DL4J's
 *       score in inference mode;</li>
 *   <li>{@code minibatchLoss}: DL4J's score of the minibatch that gave g_t;</li>
 *   <li>{@code sgNorm} ||g_t|| and {@code sgCosPrev} cos(g_t, g_{t-1}) (Fig. 8), in float64 from g_t, the gradient of
 *       the minibatch's mean loss: DL4J's backpropagated gradient (the sum over the minibatch when the configuration
 *       is {@code miniBatch}, DL4J's default) divided by the minibatch size m, read before its updater turns it into
 *       a step;</li>
 *   <li>{@code stepSize}: the updater's learning rate eta_t at this iteration (the step theta_{t+1} = theta_t - eta_t
 *       g_t of Eq. 8 with DL4J's {@code Sgd} and no gradient normalisation; adaptive updaters scale it further);</li>
 *   <li>{@code batchSize}: m.</li>
 * </ul>
 * ||theta_t - theta_0|| (Eq. 52, float64) is published as {@code paramDistance} ({@link #lastDistanceFromStart()}
 * gives it too). Networks with regularisation (L1, L2, weight decay) are refused: DL4J
 * applies it inside its updater, after the gradient read here. Softmax outputs with DL4J's {@code LossMCXENT} clip
 * probabilities at 1e-10 by default; {@code new LossMCXENT(0.0, null)} gives the unclipped cross-entropy of Eq. 11.
 *
 * <p>Timing: at {@code onGradientCalculation} ||g_t||, cos(g_t, g_{t-1}) and ||theta_t - theta_0|| are summed in
 * float64 by the client's {@link GradientTracker} over a Java copy of theta_t and g_t (float32 arrays read in one bulk
 * copy and widened value by value; theta_0 and g_{t-1} kept as float64); at
 * {@code iterationDone} (after the update) the record of t is published and f(theta_{t+1}) evaluated for the next one (f(theta_0) when attached). Publishing
 * never holds training up for long (the client drops and counts what the producer cannot take). One listener per
 * network and run; {@link #finish} (or {@link #close}) publishes the RunFinished with f(theta_T).
 *
 * <p>Curvature: with a {@link CurvatureCadence} ({@link #attach(MultiLayerNetwork, RunPublisher, ProbeSet,
 * CurvatureCadence)}) the listener also runs the {@link CurvatureProbe} on the probe set at theta_t of the chosen
 * iterations t (where f(theta_t) is evaluated: when attached for t = 0, else after the update of t - 1): the moments
 * of Eq. 4-7, L and probeSeconds go into the IterationMetrics of t, a spectrum goes out as the SpectrumSnapshot of t
 * ({@link RunPublisher#spectrum}), and snapshot folders are written with the record of t as their published.json.
 * The probes work on a float64 copy of the parameters; training waits for them.
 */
public final class SgdscopeTrainingListener extends BaseTrainingListener implements AutoCloseable {

    private final RunPublisher run;
    private final ProbeSet probe;
    private final GradientTracker tracker;
    private GradientStatistics statistics;
    private double minibatchLoss;
    private int batchSize;
    private double probeLoss;
    private double lastDistance;
    private int published;
    private final CurvatureCadence cadence;
    private final CurvatureProbe curvature;
    private final INDArray theta0;
    private ProbeMoments pendingMoments;
    private ProbeSpectrum pendingSpectrum;
    private INDArray pendingTheta;

    private SgdscopeTrainingListener(Model network, RunPublisher run, ProbeSet probe, CurvatureCadence cadence) {
        this.run = Objects.requireNonNull(run, "run");
        this.probe = Objects.requireNonNull(probe, "probe");
        this.cadence = Objects.requireNonNull(cadence, "cadence");
        Dl4jNetwork.requireNoRegularization(network);
        if (cadence.any() && probe.dataSet() == null) {
            throw new IllegalArgumentException("the curvature probes need a probe set of one DataSet (features and "
                    + "one-hot labels), not \"" + probe.description() + "\"");
        }
        if (!cadence.snapshotIterations().isEmpty() && !(network instanceof MultiLayerNetwork)) {
            throw new IllegalArgumentException("snapshot folders are written for a MultiLayerNetwork, not a "
                    + network.getClass().getSimpleName());
        }
        if (!cadence.any()) {
            this.curvature = null;
        } else if (network instanceof MultiLayerNetwork net) {
            this.curvature = new CurvatureProbe(net, cadence.probe());
        } else {
            this.curvature = new CurvatureProbe((ComputationGraph) network, cadence.probe());
        }
        this.theta0 = cadence.snapshotIterations().isEmpty() ? null : network.params().dup();
        this.tracker = new GradientTracker(Math.toIntExact(network.numParams()));
        this.probeLoss = probe.loss(network);                                  // f(theta_0), Eq. 3
        measure(0, network);
    }

    /** Listens to {@code network} (initialised, not yet trained by this run) and publishes into {@code run}. */
    public static SgdscopeTrainingListener attach(MultiLayerNetwork network, RunPublisher run, ProbeSet probe) {
        return attach(network, run, probe, CurvatureCadence.none());
    }

    /**
     * As {@link #attach(MultiLayerNetwork, RunPublisher, ProbeSet)}, running the curvature probes on the probe set at
     * the iterations {@code cadence} chooses (its probe set must be one DataSet).
     */
    public static SgdscopeTrainingListener attach(MultiLayerNetwork network, RunPublisher run, ProbeSet probe,
                                                  CurvatureCadence cadence) {
        SgdscopeTrainingListener listener = new SgdscopeTrainingListener(network, run, probe, cadence);
        network.addListeners(listener);
        return listener;
    }

    /** Listens to {@code graph} (initialised, not yet trained by this run) and publishes into {@code run}. */
    public static SgdscopeTrainingListener attach(ComputationGraph graph, RunPublisher run, ProbeSet probe) {
        return attach(graph, run, probe, CurvatureCadence.none());
    }

    /** As {@link #attach(ComputationGraph, RunPublisher, ProbeSet)} with curvature probes (no snapshot folders). */
    public static SgdscopeTrainingListener attach(ComputationGraph graph, RunPublisher run, ProbeSet probe,
                                                  CurvatureCadence cadence) {
        SgdscopeTrainingListener listener = new SgdscopeTrainingListener(graph, run, probe, cadence);
        graph.addListeners(listener);
        return listener;
    }

    /** Runs the probes the cadence asks for at t on the model's current parameters theta_t. */
    private void measure(int t, Model model) {
        pendingMoments = null;
        pendingSpectrum = null;
        pendingTheta = null;
        if (curvature == null) {
            return;
        }
        INDArray x = probe.dataSet().getFeatures();
        INDArray y = probe.dataSet().getLabels();
        boolean moments = cadence.moments(t);
        boolean spectrum = cadence.spectrum(t);
        if (moments && spectrum) {
            CurvatureProbe.Result both = curvature.both(x, y);
            pendingMoments = both.moments();
            pendingSpectrum = both.spectrum();
        } else if (moments) {
            pendingMoments = curvature.moments(x, y);
        } else if (spectrum) {
            pendingSpectrum = curvature.spectrum(x, y);
        }
        if (cadence.snapshot(t)) {
            pendingTheta = model.params().dup();
        }
    }

    @Override
    public void onGradientCalculation(Model model) {
        batchSize = model.batchSize();
        minibatchLoss = model.score();
        // theta_t before the update, and g_t = the mean gradient over the minibatch (Eq. 8): DL4J's is the sum when
        // miniBatch is on (its default), divided by m only inside its updater.
        double scale = model.conf().isMiniBatch() ? 1.0 / batchSize : 1.0;
        INDArray theta = model.params();
        INDArray gradient = model.gradient().gradient();
        if (theta.dataType() == DataType.FLOAT && gradient.dataType() == DataType.FLOAT) {
            statistics = tracker.next(floats(theta), floats(gradient), scale);       // summed in float64
        } else {
            double[] g = gradient.toDoubleVector();
            for (int i = 0; i < g.length; i++) {
                g[i] *= scale;
            }
            statistics = tracker.next(theta.toDoubleVector(), g);
        }
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (statistics == null) {
            throw new IllegalStateException("iteration " + iteration + " ended without a gradient calculation: the "
                    + "listener needs DL4J's stochastic gradient descent optimisation algorithm");
        }
        double eta = Dl4jNetwork.learningRate(model, iteration, epoch);
        double loss = probe.isMinibatch() ? minibatchLoss : probeLoss;
        Step step = Step.of(loss, minibatchLoss, eta, batchSize);
        int t = published;
        IterationMetrics record = null;
        if (pendingMoments != null) {
            record = run.iteration(step, statistics, pendingMoments::applyTo);
        } else {
            run.iteration(step, statistics);
        }
        lastDistance = statistics.distanceFromStart();
        SpectrumSnapshot spectrum = null;
        if (pendingSpectrum != null) {
            spectrum = pendingSpectrum.toRecord(run.runId(), run.experimentId(), t, System.currentTimeMillis());
            run.spectrum(spectrum);
        }
        if (pendingTheta != null) {
            try {
                Dl4jSnapshots.write(cadence.snapshotDirectory(), run.runId(), t, (MultiLayerNetwork) model, pendingTheta,
                        theta0, probe.dataSet().getFeatures(), probe.dataSet().getLabels(), cadence.probe().topK(),
                        cadence.priorSigma(), record, spectrum);
            } catch (IOException e) {
                throw new UncheckedIOException("snapshot of iteration " + t + " not written: " + e.getMessage(), e);
            }
        }
        published++;
        statistics = null;
        probeLoss = probe.loss(model);                                         // f(theta_{t+1})
        measure(published, model);
    }

    /** A float32 vector's values: its whole buffer in one bulk copy when it is the buffer, else element by element. */
    private static float[] floats(INDArray vector) {
        if (vector.offset() == 0 && vector.elementWiseStride() == 1 && vector.data().length() == vector.length()) {
            return vector.data().asFloat();
        }
        return vector.toFloatVector();
    }

    /** Iterations published so far. */
    public int iterations() {
        return published;
    }

    /** f on the probe set at the current parameters (after the last iteration: f(theta_T)). */
    public double currentLoss() {
        return probeLoss;
    }

    /** ||theta_t - theta_0|| of the last published iteration t (float64). */
    public double lastDistanceFromStart() {
        return lastDistance;
    }

    /**
     * Publishes the RunFinished: COMPLETED with f(theta_T), or DIVERGED when that loss is not finite (with
     * {@link ProbeSet#currentMinibatch()}: COMPLETED without a final loss).
     */
    public RunFinished finish() {
        if (probe.isMinibatch()) {
            return run.finish(RunStatus.COMPLETED, null, null);
        }
        if (Double.isFinite(probeLoss)) {
            return run.finish(RunStatus.COMPLETED, probeLoss, null);
        }
        return run.finish(RunStatus.DIVERGED, probeLoss, "loss f(theta_T) on the probe set is " + probeLoss);
    }

    /** {@link #finish()} if not finished yet. */
    @Override
    public void close() {
        finish();
    }
}
