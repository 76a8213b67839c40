package io.sgdscope.trainer;

import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.Mlp;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The retired per-run engine's curvature probe of one run ({@link TrainingRun}), kept as the reference of the
 * ensemble engine's: the moments of Eq. 4-7 and L every {@code momentsEvery} iterations, a SpectrumSnapshot every
 * {@code spectrumEvery} and the Corollary 4 terms at theta_T, computed at theta_t in the model's precision from the
 * full training set, exactly, with the code both engines share ({@link RunCurvature}: how L stays fresh, the
 * snapshot, the Corollary 4 terms).
 *
 * <p>Not thread-safe: one per run.
 */
final class PerRunCurvature implements AutoCloseable {

    private final TrainerSettings trainer;
    private final CurvatureSettings settings;
    private final String runId;
    private final INDArray theta0;
    private final SpectrumProbe probe;
    private NetworkCurvature net;

    PerRunCurvature(TrainerSettings trainer, String runId, long seed, INDArray theta0) {
        this.trainer = trainer;
        this.settings = trainer.curvature();
        this.runId = runId;
        this.theta0 = theta0.dup();
        this.probe = new SpectrumProbe(settings.topK(), RunCurvature.SNAPSHOT_LANCZOS, settings.fullSpectrum(), seed);
    }

    /** The curvature quantities due at iteration t, at the model's current theta_t (no diagonals). */
    RunCurvature.Measured at(int t, Mlp model, Dataset data) {
        return at(t, model, data, false);
    }

    /**
     * The curvature quantities due at iteration t, at the model's current theta_t; with {@code diagonals},
     * mu_t and diag(M_t) too at moments iterations (for the preconditioner of Eq. 36).
     */
    RunCurvature.Measured at(int t, Mlp model, Dataset data, boolean diagonals) {
        boolean moments = settings.momentsAt(t);
        boolean spectrum = settings.spectrumAt(t);
        if (!moments && !spectrum) {
            return RunCurvature.Measured.NOTHING;
        }
        long start = System.nanoTime();
        NetworkCurvature net = frozen(model, data);
        SpectrumSnapshot snapshot = null;
        Double norm = null;
        if (spectrum) {
            Spectra spectra = probe.measure(net);
            norm = spectra.hessianSpectralNorm();
            snapshot = RunCurvature.snapshot(trainer, runId, theta0, t, net, spectra, start);
        }
        long momentsStart = System.nanoTime();
        GradientMoments gradientMoments = null;
        if (moments) {
            gradientMoments = GradientMoments.of(net, GradientMoments.DEFAULT_GRAM_LIMIT);
            if (norm == null) {
                norm = probe.hessianSpectralNorm(net, RunCurvature.SPECTRAL_NORM_STEPS);
            }
        }
        INDArray mu = null;
        INDArray diagonal = null;
        if (moments && diagonals) {
            mu = net.gradient().dup();
            diagonal = net.secondMomentDiagonal();
        }
        double seconds = (System.nanoTime() - (spectrum ? momentsStart : start)) / 1e9;
        return new RunCurvature.Measured(gradientMoments, moments ? norm : null, moments ? seconds : null, snapshot, norm, mu, diagonal);
    }

    /** The probe's warm starts and counters, for a checkpoint. */
    SpectrumProbe.State probeState() {
        return probe.state();
    }

    /** Continues from a checkpoint's probe state: the next L and spectra are those of the uninterrupted run. */
    void restore(SpectrumProbe.State state) {
        probe.restore(state, theta0.dataType());
    }

    /** theta_0 of the run (the prior mean). */
    INDArray initialParameters() {
        return theta0;
    }

    /** The Corollary 4 terms at the final theta_T. */
    GeneralizationTerms finish(Mlp model, Dataset data) {
        return RunCurvature.finalTerms(trainer, theta0, frozen(model, data));
    }

    /** The run's network at the model's current theta: built once, then moved along ({@link NetworkCurvature#freeze}). */
    private NetworkCurvature frozen(Mlp model, Dataset data) {
        if (net == null) {
            net = NetworkCurvature.classifier(model.architecture(), model.parameters(), data.features(), data.labels(),
                    model.precision().dataType());
        } else {
            net.freeze(model.parameters());
        }
        return net;
    }

    @Override
    public void close() {
        if (net != null) {
            net.close();
            net = null;
        }
    }
}
