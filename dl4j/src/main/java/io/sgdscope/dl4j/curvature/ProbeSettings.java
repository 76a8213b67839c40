package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.Lanczos;
import java.util.Objects;

/**
 * How a {@link CurvatureProbe} works.
 *
 * @param topK              k, the eigenpairs per operator (Fig. 2-4: 15)
 * @param lanczos           steps and tolerance of each Lanczos run (the trainer's snapshot setting by default)
 * @param finiteDifferenceStep h of the central differences of H_f v ({@link FiniteDifferenceHessian})
 * @param spectralNormSteps Lanczos steps for L = ||H_f||_2 at a moments call without a spectrum
 * @param seed              seeds the random Lanczos start vectors
 */
public record ProbeSettings(int topK, Lanczos.Settings lanczos, double finiteDifferenceStep, int spectralNormSteps,
                            long seed) {

    public ProbeSettings {
        if (topK < 1) {
            throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
        }
        Objects.requireNonNull(lanczos, "lanczos");
        if (!(finiteDifferenceStep > 0) || !Double.isFinite(finiteDifferenceStep)) {
            throw new IllegalArgumentException("the finite-difference step must be > 0, got " + finiteDifferenceStep);
        }
        if (spectralNormSteps < 1) {
            throw new IllegalArgumentException("spectral-norm Lanczos steps must be >= 1, got " + spectralNormSteps);
        }
    }

    /** k = 15, up to 300 Lanczos steps to 1e-5 relative residuals, h = 1e-5, 8 steps for L, seed 1. */
    public static ProbeSettings defaults() {
        return new ProbeSettings(15, new Lanczos.Settings(300, 1e-5, 10), FiniteDifferenceHessian.DEFAULT_STEP, 8, 1L);
    }

    /** The same with another k. */
    public ProbeSettings withTopK(int k) {
        return new ProbeSettings(k, lanczos, finiteDifferenceStep, spectralNormSteps, seed);
    }

    /** The same with other Lanczos settings. */
    public ProbeSettings withLanczos(Lanczos.Settings settings) {
        return new ProbeSettings(topK, settings, finiteDifferenceStep, spectralNormSteps, seed);
    }
}
