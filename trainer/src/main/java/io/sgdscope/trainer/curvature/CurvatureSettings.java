package io.sgdscope.trainer.curvature;

import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

/**
 * What curvature telemetry a run computes, and when. Validated on construction (one-line messages
 * naming the setting); the iterations of {@link #snapshotAt} are checked against the run length by
 * the trainer settings.
 *
 * <p>Defaults ({@link #defaults()}): moments every 10 iterations, a SpectrumSnapshot every 200, top-15,
 * no full spectra, no snapshot folders, sigma from the initialisation, delta = 0.05. Why these cadences:
 * on this project's 2-core machine one moments iteration of Gauss-10 (p = 1150, n = 100) costs about
 * 2.5 ms of CPU (the exact moments from the 100 x 100 Gram matrix, plus L by 8 warm-started Lanczos
 * steps) and one spectrum snapshot about 65 ms (three converged Lanczos runs of up to ~80 steps each,
 * the exact diagonal, the Corollary 4 terms). The demo's 100 runs x 400 iterations then spend
 * ~4,000 x 2.5 ms + 200 x 65 ms = ~23 s of CPU on curvature, ~11 s of wall time on two idle cores,
 * against ~4 s for training itself: every 10th step carries the moments and L that the deviation
 * checks of Theorem 1 need, and each run gets two spectra (t = 0 and t = 200). Denser cadences
 * (Fig. 2-4 use every iteration) are a flag away; {@code --spectrum-every 0} halves the cost.
 *
 * @param momentsEvery  the moments of Eq. 4-7 and L into IterationMetrics at t = 0, N, 2N, ...; 0 = never
 * @param spectrumEvery a SpectrumSnapshot at t = 0, N, 2N, ...; 0 = never
 * @param topK          eigenpairs per operator (Fig. 2-4: 15)
 * @param fullSpectrum  also publish every eigenvalue of the dense H_f and M_t (only where p <= 4096)
 * @param snapshotAt    iterations at which a snapshot folder is written (and moments and a spectrum computed), ascending
 * @param snapshotDir   root of the snapshot folders; required when snapshotAt is not empty
 * @param priorSigma    sigma of the PAC-Bayes prior N(theta_0, sigma^2 I) (Corollary 4); null = the
 *                      initialisation's root-mean-square scale ({@code Initialization.priorScale})
 * @param boundDelta    confidence delta of the bound of Eq. 52, in (0, 1)
 */
public record CurvatureSettings(int momentsEvery, int spectrumEvery, int topK, boolean fullSpectrum,
                                List<Integer> snapshotAt, Path snapshotDir, Double priorSigma, double boundDelta) {

    public static final int DEFAULT_MOMENTS_EVERY = 10;
    public static final int DEFAULT_SPECTRUM_EVERY = 200;
    public static final int DEFAULT_TOP_K = 15;
    public static final double DEFAULT_BOUND_DELTA = 0.05;

    public CurvatureSettings {
        if (momentsEvery < 0) {
            throw new IllegalArgumentException("moments-every must be >= 0 (0 = never), got " + momentsEvery);
        }
        if (spectrumEvery < 0) {
            throw new IllegalArgumentException("spectrum-every must be >= 0 (0 = never), got " + spectrumEvery);
        }
        if (topK < 1 || topK > 200) {
            throw new IllegalArgumentException("top-k must be between 1 and 200, got " + topK);
        }
        snapshotAt = snapshotAt == null ? List.of() : List.copyOf(new TreeSet<>(snapshotAt));
        for (int t : snapshotAt) {
            if (t < 0) {
                throw new IllegalArgumentException("snapshot-at iterations must be >= 0, got " + t);
            }
        }
        if (!snapshotAt.isEmpty() && snapshotDir == null) {
            throw new IllegalArgumentException("snapshot-at needs a snapshot-dir to write the folders into");
        }
        if (priorSigma != null && !(priorSigma > 0 && Double.isFinite(priorSigma))) {
            throw new IllegalArgumentException("prior-sigma must be > 0 and finite, got " + priorSigma);
        }
        if (!(boundDelta > 0 && boundDelta < 1)) {
            throw new IllegalArgumentException("bound-delta must be in (0, 1), got " + boundDelta);
        }
    }

    /** The defaults described above. */
    public static CurvatureSettings defaults() {
        return new CurvatureSettings(DEFAULT_MOMENTS_EVERY, DEFAULT_SPECTRUM_EVERY, DEFAULT_TOP_K, false, List.of(), null,
                null, DEFAULT_BOUND_DELTA);
    }

    /** No curvature telemetry at all (but the Corollary 4 terms at the end of the run). */
    public static CurvatureSettings off() {
        return new CurvatureSettings(0, 0, DEFAULT_TOP_K, false, List.of(), null, null, DEFAULT_BOUND_DELTA);
    }

    /** Whether iteration t gets the moments. */
    public boolean momentsAt(int t) {
        return (momentsEvery > 0 && t % momentsEvery == 0) || snapshotAt.contains(t);
    }

    /** Whether iteration t gets a SpectrumSnapshot. */
    public boolean spectrumAt(int t) {
        return (spectrumEvery > 0 && t % spectrumEvery == 0) || snapshotAt.contains(t);
    }

    /** Whether iteration t gets a snapshot folder. */
    public boolean snapshotAt(int t) {
        return snapshotAt.contains(t);
    }

    public CurvatureSettings withMomentsEvery(int value) {
        return new CurvatureSettings(value, spectrumEvery, topK, fullSpectrum, snapshotAt, snapshotDir, priorSigma, boundDelta);
    }

    public CurvatureSettings withSpectrumEvery(int value) {
        return new CurvatureSettings(momentsEvery, value, topK, fullSpectrum, snapshotAt, snapshotDir, priorSigma, boundDelta);
    }

    public CurvatureSettings withTopK(int value) {
        return new CurvatureSettings(momentsEvery, spectrumEvery, value, fullSpectrum, snapshotAt, snapshotDir, priorSigma, boundDelta);
    }

    public CurvatureSettings withFullSpectrum(boolean value) {
        return new CurvatureSettings(momentsEvery, spectrumEvery, topK, value, snapshotAt, snapshotDir, priorSigma, boundDelta);
    }

    public CurvatureSettings withSnapshots(List<Integer> iterations, Path dir) {
        return new CurvatureSettings(momentsEvery, spectrumEvery, topK, fullSpectrum, iterations, dir, priorSigma, boundDelta);
    }

    public CurvatureSettings withPriorSigma(Double value) {
        return new CurvatureSettings(momentsEvery, spectrumEvery, topK, fullSpectrum, snapshotAt, snapshotDir, value, boundDelta);
    }

    public CurvatureSettings withBoundDelta(double value) {
        return new CurvatureSettings(momentsEvery, spectrumEvery, topK, fullSpectrum, snapshotAt, snapshotDir, priorSigma, value);
    }
}
