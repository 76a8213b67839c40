package io.sgdscope.dl4j;

import io.sgdscope.dl4j.curvature.CurvatureProbe;
import io.sgdscope.dl4j.curvature.ProbeSettings;
import java.nio.file.Path;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * When a {@link SgdscopeTrainingListener} runs the curvature probes ({@link CurvatureProbe}) on its probe set, at
 * theta_t of iteration t (immutable; {@link #none()} is the default: per-iteration scalars only).
 *
 * <ul>
 *   <li>{@code momentsEvery} N: at t = 0, N, 2N, ... the IterationMetrics of t carries the moments of Eq. 4-7
 *       (gradNormSq, traceM, traceSigma, sigmaFrobenius, sigmaSpectral, sigmaHalfMuNorm), L = ||H_f||_2 (Eq. 6) as
 *       hessianSpectralNorm, and probeSeconds; 0 = never;</li>
 *   <li>{@code spectrumEvery} N: at t = 0, N, 2N, ... a SpectrumSnapshot of t (top-k of H_f, M_t, H_p, Eq. 13
 *       angles) is published through the run; 0 = never. When moments fall on the same t, both come from one set of
 *       per-example gradients and L is the spectrum's;</li>
 *   <li>{@code snapshotIterations} at these t a snapshot folder {@code snapshotDirectory/<runId>/<t>/}
 *       ({@code docs/snapshots.md}) is written with theta_0 as it was when the listener was attached; the moments
 *       are measured at these t as well (whatever momentsEvery says) so that the folder's published.json holds them.
 *       The folder's X and y are the probe set, and IterationMetrics.loss is f on that same set, so the offline
 *       checks reproduce it: snapshots need a {@link ProbeSet#of(org.nd4j.linalg.dataset.api.DataSet, String)}
 *       probe set and a MultiLayerNetwork.</li>
 * </ul>
 * Any probe needs a probe set of one DataSet (features [n, d], one-hot labels [n, k], n up to the probe's limit) and
 * a network of dense layers; {@link ProbeSet#currentMinibatch()} is refused (there is no fixed set to probe). The
 * listener measures t right after the update of t - 1, before it knows whether training goes on: probes due at the t
 * after the last update are computed but not published.
 *
 * @param momentsEvery       N for the moments and L, 0 = off
 * @param spectrumEvery      N for the spectra, 0 = off
 * @param snapshotIterations the t of the snapshot folders (sorted, immutable; empty = none)
 * @param snapshotDirectory  where the folders go; required when there are snapshot iterations, else may be null
 * @param probe              the probes' own settings (k, Lanczos, finite-difference step, seed)
 * @param priorSigma         the prior's sigma recorded in each folder's meta.json (the PAC-Bayes checks')
 */
public record CurvatureCadence(int momentsEvery, int spectrumEvery, SortedSet<Integer> snapshotIterations,
                               Path snapshotDirectory, ProbeSettings probe, double priorSigma) {

    public CurvatureCadence {
        if (momentsEvery < 0) {
            throw new IllegalArgumentException("moments every N iterations needs N >= 0 (0 = off), got " + momentsEvery);
        }
        if (spectrumEvery < 0) {
            throw new IllegalArgumentException("a spectrum every N iterations needs N >= 0 (0 = off), got " + spectrumEvery);
        }
        if (snapshotIterations == null) {
            throw new IllegalArgumentException("snapshot iterations must be a set (empty for none), got null");
        }
        for (Integer t : snapshotIterations) {
            if (t == null || t < 0) {
                throw new IllegalArgumentException("snapshot iterations must be >= 0, got " + t);
            }
        }
        snapshotIterations = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(snapshotIterations));
        if (!snapshotIterations.isEmpty() && snapshotDirectory == null) {
            throw new IllegalArgumentException("snapshots at iterations " + snapshotIterations + " need a directory");
        }
        if (probe == null) {
            throw new IllegalArgumentException("the probe settings must not be null");
        }
        if (!(priorSigma > 0) || !Double.isFinite(priorSigma)) {
            throw new IllegalArgumentException("the prior sigma must be > 0, got " + priorSigma);
        }
    }

    /** No probes: the listener publishes the per-iteration scalars only. */
    public static CurvatureCadence none() {
        return new CurvatureCadence(0, 0, new TreeSet<>(), null, ProbeSettings.defaults(), 1.0);
    }

    /** The same with the moments and L every {@code n} iterations (0 = off). */
    public CurvatureCadence withMomentsEvery(int n) {
        return new CurvatureCadence(n, spectrumEvery, snapshotIterations, snapshotDirectory, probe, priorSigma);
    }

    /** The same with a spectrum every {@code n} iterations (0 = off). */
    public CurvatureCadence withSpectrumEvery(int n) {
        return new CurvatureCadence(momentsEvery, n, snapshotIterations, snapshotDirectory, probe, priorSigma);
    }

    /** The same with snapshot folders at {@code iterations} under {@code directory}. */
    public CurvatureCadence withSnapshots(Path directory, Set<Integer> iterations) {
        return new CurvatureCadence(momentsEvery, spectrumEvery,
                iterations == null ? null : new TreeSet<>(iterations), directory, probe, priorSigma);
    }

    /** The same with other probe settings. */
    public CurvatureCadence withProbe(ProbeSettings settings) {
        return new CurvatureCadence(momentsEvery, spectrumEvery, snapshotIterations, snapshotDirectory, settings,
                priorSigma);
    }

    /** The same with another prior sigma for the snapshot folders. */
    public CurvatureCadence withPriorSigma(double sigma) {
        return new CurvatureCadence(momentsEvery, spectrumEvery, snapshotIterations, snapshotDirectory, probe, sigma);
    }

    /** Whether any probe runs. */
    public boolean any() {
        return momentsEvery > 0 || spectrumEvery > 0 || !snapshotIterations.isEmpty();
    }

    boolean moments(int t) {
        return (momentsEvery > 0 && t % momentsEvery == 0) || snapshotIterations.contains(t);
    }

    boolean spectrum(int t) {
        return spectrumEvery > 0 && t % spectrumEvery == 0;
    }

    boolean snapshot(int t) {
        return snapshotIterations.contains(t);
    }
}
