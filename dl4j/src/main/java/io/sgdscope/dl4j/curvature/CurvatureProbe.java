package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.curvature.Spectra;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The paper's curvature probes on a DL4J network of dense layers (a MultiLayerNetwork, or a ComputationGraph
 * that is a chain of such layers), for a training listener to call at
 * the iterations it chooses, on a probe set it gives (features and one-hot labels, at most
 * {@link SampleGradients#MAX_SAMPLES} examples):
 *
 * <ul>
 *   <li>{@link #moments}: the exact moments of Eq. 4-7 from the per-example gradients of DL4J's own
 *       backpropagation (minibatches of one) through the trainer's Gram identities, and L = ||H_f||_2 by
 *       a few Lanczos steps on finite-difference H_f v products, warm-started from the last eigenvectors;</li>
 *   <li>{@link #spectrum}: the top-k eigenpairs of H_f, M_t and H_p = M_t - H_f by the trainer's
 *       Lanczos (each run warm-started from the previous call's Ritz vectors of the same operator), the
 *       principal angles between the top-k subspaces of H_f and M_t (Eq. 13), the layer loadings and the
 *       Davis-Kahan bounds: the trainer's {@link SpectrumProbe} on {@link Dl4jCurvature};</li>
 *   <li>{@link #both}: the two on one set of per-example gradients, L from the spectrum's converged run.</li>
 * </ul>
 *
 * <p>The probes work on a float64 twin of the network ({@link GradientModel}) into which each call copies
 * the current parameters: the trained network's state is not touched. Precision: float64 throughout.
 * Stateful (the warm starts): one per run, one thread.
 */
public final class CurvatureProbe {

    private final GradientModel model;
    private final ParameterLayout layout;
    private final ProbeSettings settings;
    private final SpectrumProbe spectra;

    /** Probes for {@code net} (dense layers and an output layer; see {@link ParameterLayout#of(MultiLayerNetwork)}). */
    public CurvatureProbe(MultiLayerNetwork net, ProbeSettings settings) {
        this(ParameterLayout.of(net), GradientModel.of(net), settings);
    }

    /** Probes for a chain {@code graph} of dense layers and an output layer ({@link ParameterLayout#of(ComputationGraph)}). */
    public CurvatureProbe(ComputationGraph graph, ProbeSettings settings) {
        this(ParameterLayout.of(graph), GradientModel.of(graph), settings);
    }

    private CurvatureProbe(ParameterLayout layout, GradientModel model, ProbeSettings settings) {
        this.layout = layout;
        this.model = model;
        this.settings = settings;
        this.spectra = new SpectrumProbe(settings.topK(), settings.lanczos(), false, settings.seed());
    }

    /** The layout of the network's parameters. */
    public ParameterLayout layout() {
        return layout;
    }

    /** The moments of Eq. 4-7 and L at the network's current parameters. */
    public ProbeMoments moments(INDArray features, INDArray labels) {
        long start = System.nanoTime();
        Dl4jCurvature ops = freeze(features, labels);
        double l = spectra.hessianSpectralNorm(ops, settings.spectralNormSteps());
        return moments(ops, l, start);
    }

    /** The top-k spectra of H_f, M_t and H_p and their principal angles at the network's current parameters. */
    public ProbeSpectrum spectrum(INDArray features, INDArray labels) {
        long start = System.nanoTime();
        return spectrum(freeze(features, labels), start);
    }

    /**
     * Both at once, on one set of per-example gradients; the moments' L is the spectrum's (converged).
     * The spectrum's probeSeconds includes the per-example gradients both use, the moments' is the Gram
     * matrix and the moments alone.
     */
    public Result both(INDArray features, INDArray labels) {
        long start = System.nanoTime();
        Dl4jCurvature ops = freeze(features, labels);
        ProbeSpectrum spectrum = spectrum(ops, start);
        ProbeMoments moments = moments(ops, spectrum.hessianSpectralNorm(), System.nanoTime());
        return new Result(moments, spectrum);
    }

    /**
     * The moments and the spectrum of one call of {@link #both}.
     *
     * @param moments  the IterationMetrics part
     * @param spectrum the SpectrumSnapshot part
     */
    public record Result(ProbeMoments moments, ProbeSpectrum spectrum) {}

    private Dl4jCurvature freeze(INDArray features, INDArray labels) {
        if (features.rank() != 2 || features.columns() != layout.architecture().inputDimension()) {
            throw new IllegalArgumentException("probe features must be [n, " + layout.architecture().inputDimension()
                    + "], got " + java.util.Arrays.toString(features.shape()));
        }
        if (labels.rank() != 2 || labels.columns() != layout.architecture().classes()) {
            throw new IllegalArgumentException("probe labels must be [n, " + layout.architecture().classes()
                    + "] (one-hot), got " + java.util.Arrays.toString(labels.shape()));
        }
        model.synchronize();
        SampleGradients samples = SampleGradients.of(model, features, labels);
        FiniteDifferenceHessian hessian = new FiniteDifferenceHessian(model, features, labels,
                settings.finiteDifferenceStep());
        return new Dl4jCurvature(layout.architecture(), hessian, samples);
    }

    private ProbeMoments moments(Dl4jCurvature ops, double l, long start) {
        SampleGradients samples = ops.sampleGradients();
        GradientMoments m = samples.moments();
        double seconds = (System.nanoTime() - start) / 1e9;
        return new ProbeMoments(m.gradNormSq(), m.traceM(), m.traceSigma(), m.sigmaFrobenius(), m.sigmaSpectral(),
                m.sigmaHalfMuNorm(), l, seconds, samples.loss(), samples.samples(), counts(ops));
    }

    private ProbeSpectrum spectrum(Dl4jCurvature ops, long start) {
        Spectra s = spectra.measure(ops);
        FiniteDifferenceHessian hessian = ops.finiteDifferenceHessian();
        double error = hessian.errorEstimate(s.hessian().vectors().getColumn(0));
        double seconds = (System.nanoTime() - start) / 1e9;
        return new ProbeSpectrum(settings.topK(), list(s.hessian().values()), list(s.hessian().residuals()),
                list(s.secondMoment().values()), list(s.secondMoment().residuals()),
                list(s.predictionHessian().values()), list(s.predictionHessian().residuals()),
                list(s.principalAngleCosines()), loadings(s.hessianLayerLoadings()), list(s.davisKahanBounds()),
                s.hessianSpectralNorm(), seconds, hessian.step(), error, counts(ops));
    }

    private static ProductCounts counts(Dl4jCurvature ops) {
        FiniteDifferenceHessian h = ops.finiteDifferenceHessian();
        return new ProductCounts(ops.hessianProducts(), ops.secondMomentProducts(), ops.predictionHessianProducts(),
                ops.sampleGradients().samples(), h.gradientEvaluations(), h.forwardPasses(), h.kinkCrossings(),
                h.unresolvedCrossings());
    }

    private static List<Double> list(double[] values) {
        List<Double> list = new ArrayList<>(values.length);
        for (double value : values) {
            list.add(value);
        }
        return list;
    }

    private static List<List<Double>> loadings(double[][] rows) {
        List<List<Double>> list = new ArrayList<>(rows.length);
        for (double[] row : rows) {
            list.add(list(row));
        }
        return list;
    }
}
