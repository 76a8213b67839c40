package io.sgdscope.trainer;

import io.sgdscope.trainer.curvature.BatchedLanczos;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedCurvature;
import io.sgdscope.trainer.model.BatchedMlp;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The moments of Eq. 4-7 and L = ||H_f||_2 (Eq. 6) of every run of an {@link EnsembleBlock}, every
 * {@code momentsEvery} iterations: the values {@link RunCurvature} computes for one run of the per-run engine, for
 * a whole block with batched products, so that the deviation checks of Theorems 1-3 can run on an ensemble.
 *
 * <p><b>Up to {@link GradientMoments#DEFAULT_GRAM_LIMIT} samples</b> (Gauss-k) the block is probed at once
 * ({@link BatchedCurvature}): each run's n x n Gram matrix of the per-sample gradients from batched products, in
 * chunks of up to {@value #GRAM_CHUNK} runs ({@link #gramChunk}), and the moments from it by the per-run engine's own arithmetic
 * ({@link GradientMoments#fromGram}: exact, ||Sigma||_2 by Lanczos on the centred Gram to 1e-13 relative residual); L by
 * {@value RunCurvature#SPECTRAL_NORM_STEPS} Lanczos steps in lockstep for every run ({@link BatchedLanczos}), one
 * batched Hessian-vector product (R-operator) per step, each run started from the sum of its previous top and
 * bottom Ritz vectors (random from its seed the first time): exactly the per-run engine's
 * {@link SpectrumProbe#hessianSpectralNorm}, with the same steps, start vectors and seeds, so both engines publish
 * the same L up to rounding. <b>Above it</b> (MNIST, CIFAR-10) the block goes through its runs one after another
 * with the per-run engine's matrix-free code ({@link NetworkCurvature} moved to each run's theta,
 * {@link GradientMoments#of}, a {@link SpectrumProbe} per run): nothing of size n^2 per run is formed.
 *
 * <p><b>Spectra.</b> At a spectrum iteration each probed run's spectra come first ({@link EnsembleSpectra}: on the
 * batched path by Lanczos in lockstep for the block's runs, else run by run; each run from its own SpectrumProbe's warm
 * starts of its previous snapshot), and L there is
 * the snapshot's converged one; the next L starts from that snapshot's top and bottom eigenvectors of H_f. The
 * block counts the Lanczos runs (one per probed iteration, whether moments, spectrum or both) the way each run's
 * SpectrumProbe counts them on the per-run engine, so every random start and warm-start noise has the per-run
 * engine's seed, and the L, spectra and warm starts of both engines agree up to rounding (EnsembleSpectraTest).
 *
 * <p>{@code probeSeconds}: the wall time of the block's probe divided evenly among the runs it probed (the batched
 * products serve all of them at once, so no run has a time of its own).
 *
 * <p>Precision: the products in the network's type; the Gram matrices as handed to {@link GradientMoments} and
 * everything after them, the Lanczos vectors and the tridiagonal eigenproblems in float64. Not thread-safe: one per
 * block.
 */
final class EnsembleCurvature {

    /** Runs whose Gram matrices are formed at once at most (three [runs, n, n] arrays: ~7.7 MB at n = 100). */
    static final int GRAM_CHUNK = 32;

    /** What the Gram matrices of one chunk may take at most: 64 MiB (n = 2048: one run at a time). */
    static final long GRAM_CHUNK_BYTES = 64L << 20;

    /** Runs per chunk of Gram matrices for n samples: {@value #GRAM_CHUNK}, fewer where their arrays would pass 64 MiB. */
    static int gramChunk(int n) {
        long perRun = 3L * 8 * n * n;                                   // the two products' arrays and the heap copy
        return (int) Math.max(1, Math.min(GRAM_CHUNK, GRAM_CHUNK_BYTES / perRun));
    }

    /**
     * About how many bytes the probe adds per run of a block (in the block size's memory bound,
     * {@link EnsembleBlock#blockSize}): {@link BatchedCurvature}'s arrays in the network's type and the Lanczos
     * vectors and softmax parts on the heap in float64. (The spectra's Lanczos bases are on the heap too, at most
     * {@link EnsembleSpectra#LANCZOS_CHUNK} runs' at once.)
     */
    static long bytesPerRun(io.sgdscope.trainer.model.MlpArchitecture architecture,
                            io.sgdscope.trainer.model.Precision precision, int samples) {
        if (samples > GradientMoments.DEFAULT_GRAM_LIMIT) {
            return 3L * 8 * architecture.parameterCount();               // the per-run path: a probe's warm starts
        }
        return BatchedCurvature.bytesPerRun(architecture, precision, samples)
                + 8L * (3L * samples * architecture.classes()
                + (RunCurvature.SPECTRAL_NORM_STEPS + 5L) * architecture.parameterCount());
    }

    private final TrainerSettings settings;
    private final BatchedMlp model;
    private final Dataset data;
    private final long[] seeds;
    private final int runs;
    private final int gramLimit;
    private BatchedCurvature batched;
    /** Batched path: per run, the last top plus bottom Ritz vector of H_f ([R p], zeros before the first probe). */
    private double[] warmStarts;
    /** Each run's Lanczos runs so far (on the batched path they seed its random start vectors, as in {@link SpectrumProbe}). */
    private final int[] calls;
    /** Batched path: per run, the last top and bottom Ritz vectors of H_f, for a checkpoint ([R p], null until probed). */
    private double[] tops;
    private double[] bottoms;
    /** Per run: the per-run engine's code (its probe, the spectra, the network moved from run to run). */
    private final EnsembleSpectra spectra;
    /** The snapshots of the last probed iteration, per run (null where none was taken). */
    private final EnsembleSpectra.Measured[] snapshots;

    /**
     * Every column of one probed iteration, element r for the block's run r.
     *
     * @param missing true where run r was not probed (ended, or a non-finite loss: as the per-run engine, which
     *                probes only at a finite f(theta_t))
     */
    record Columns(double[] gradNormSq, double[] traceM, double[] traceSigma, double[] sigmaFrobenius,
                   double[] sigmaSpectral, double[] sigmaHalfMuNorm, double[] hessianSpectralNorm,
                   double[] probeSeconds, boolean[] missing) {

        /** The columns of the given runs, in that order; null flags when all of them were probed. */
        Columns pick(int[] which) {
            boolean[] picked = null;
            for (int i = 0; i < which.length; i++) {
                if (missing[which[i]]) {
                    picked = picked == null ? new boolean[which.length] : picked;
                    picked[i] = true;
                }
            }
            return new Columns(pick(gradNormSq, which), pick(traceM, which), pick(traceSigma, which),
                    pick(sigmaFrobenius, which), pick(sigmaSpectral, which), pick(sigmaHalfMuNorm, which),
                    pick(hessianSpectralNorm, which), pick(probeSeconds, which),
                    picked == null ? new boolean[which.length] : picked);          // missingOrNull reads it
        }

        /** The flags, or null if every run was probed (a frame column's convention). */
        boolean[] missingOrNull() {
            for (boolean m : missing) {
                if (m) {
                    return missing;
                }
            }
            return null;
        }

        private static double[] pick(double[] values, int[] which) {
            double[] picked = new double[which.length];
            for (int i = 0; i < which.length; i++) {
                picked[i] = values[which[i]];
            }
            return picked;
        }
    }

    /** For the runs 0 .. R-1 of the experiment (their ids from {@link Experiment#runId}): tests. */
    EnsembleCurvature(TrainerSettings settings, BatchedMlp model, Dataset data, long[] seeds) {
        this(settings, model, data, seeds, GradientMoments.DEFAULT_GRAM_LIMIT);
    }

    /** With a Gram limit of one's own (tests: the per-run path on small data). */
    EnsembleCurvature(TrainerSettings settings, BatchedMlp model, Dataset data, long[] seeds, int gramLimit) {
        this(settings, model, data, ids(settings, seeds.length), seeds, gramLimit, model.copyOfParameters());
    }

    /**
     * For the block's runs, right after their initialisation (theta_0 is kept for the Corollary 4 terms).
     *
     * @param runIds        the runs' ids, for their SpectrumSnapshots and snapshot folders
     * @param start         theta_0 of every run, a {@link BatchedMlp#copyOfParameters copy} in the model's layout
     *                      (resumed runs' theta_0 drawn again from their seed; the model holds their theta_t)
     */
    EnsembleCurvature(TrainerSettings settings, BatchedMlp model, Dataset data, String[] runIds, long[] seeds,
                      int gramLimit, INDArray[] start) {
        this.settings = settings;
        this.model = model;
        this.data = data;
        this.seeds = seeds.clone();
        this.runs = model.runs();
        this.gramLimit = gramLimit;
        this.calls = new int[runs];
        this.spectra = new EnsembleSpectra(settings, model, data, runIds, seeds, start);
        this.snapshots = new EnsembleSpectra.Measured[runs];
    }

    private static String[] ids(TrainerSettings settings, int runs) {
        String[] ids = new String[runs];
        for (int r = 0; r < runs; r++) {
            ids[r] = Experiment.runId(settings.experimentId(), r);
        }
        return ids;
    }

    /** The per-run engine's code for the block's runs: Corollary 4 at theta_T, snapshot folders. */
    EnsembleSpectra spectra() {
        return spectra;
    }

    /** Run r's SpectrumSnapshot of the last iteration given to {@link #at}, or null if none was taken there. */
    io.sgdscope.schemas.SpectrumSnapshot snapshot(int r) {
        return snapshots[r] == null ? null : snapshots[r].record();
    }

    /**
     * The columns of iteration t at the model's current parameters, or null when t is no moments iteration. At a
     * spectrum iteration ({@link io.sgdscope.trainer.curvature.CurvatureSettings#spectrumAt}) each probed run's
     * spectra are computed first, by the per-run engine's code ({@link EnsembleSpectra}; then {@link #snapshot}), and
     * L is that snapshot's converged one, as on the per-run engine; at the other moments iterations L takes
     * {@value RunCurvature#SPECTRAL_NORM_STEPS} Lanczos steps from the last top and bottom eigenvectors of H_f.
     *
     * @param probe    which runs to probe (still going, with a finite loss)
     * @param failures receives, per run, why its probe failed (an exception of the eigensolvers on non-finite or
     *                 huge values, which on the per-run engine ends that run FAILED), else null; such a run is
     *                 marked missing and the block goes on
     */
    Columns at(int t, boolean[] probe, String[] failures) {
        java.util.Arrays.fill(snapshots, null);
        java.util.Arrays.fill(failures, null);               // (also where nothing is due: no stale failure stays)
        boolean momentsDue = settings.curvature().momentsAt(t);
        boolean spectrumDue = settings.curvature().spectrumAt(t);
        if (!momentsDue && !spectrumDue) {
            return null;
        }
        long start = System.nanoTime();
        double[][] moments = new double[6][runs];
        double[] norms = new double[runs];
        boolean[] missing = new boolean[runs];
        int probed = 0;
        for (int r = 0; r < runs; r++) {
            missing[r] = !probe[r];
            probed += probe[r] ? 1 : 0;
            if (!probe[r]) {
                for (double[] column : moments) {
                    column[r] = Double.NaN;
                }
                norms[r] = Double.NaN;
            }
        }
        boolean batchedPath = data.samples() <= gramLimit;
        if (probed > 0) {
            if (batchedPath) {
                if (batched == null) {
                    batched = new BatchedCurvature(model, data);
                }
                batched.freeze();                                    // once for the spectra and the moments
            }
            if (spectrumDue) {
                spectra(t, probe, norms, failures, batchedPath);
                start = System.nanoTime();                   // probeSeconds: the moments' time, as per run
            }
            if (momentsDue && batchedPath) {
                batched(probe, moments, norms, failures, !spectrumDue);
            } else if (momentsDue) {
                oneByOne(probe, moments, norms, failures, !spectrumDue);
            }
            for (int r = 0; r < runs; r++) {
                calls[r] += probe[r] ? 1 : 0;  // one Lanczos run per probed iteration and run, as in SpectrumProbe
            }
        }
        if (!momentsDue) {
            return null;
        }
        for (int r = 0; r < runs; r++) {
            if (failures[r] != null) {
                missing[r] = true;
            }
        }
        double[] seconds = new double[runs];
        double share = (System.nanoTime() - start) / 1e9 / Math.max(1, probed);      // the block's time, shared
        for (int r = 0; r < runs; r++) {
            seconds[r] = probe[r] ? share : Double.NaN;
        }
        return new Columns(moments[0], moments[1], moments[2], moments[3], moments[4], moments[5], norms, seconds,
                missing);
    }

    /**
     * The spectra of each probed run ({@link EnsembleSpectra#measure}) and L from them; on the batched path the next
     * L starts from their top and bottom eigenvectors of H_f and the Lanczos runs are counted by the block.
     */
    private void spectra(int t, boolean[] probe, double[] norms, String[] failures, boolean batchedPath) {
        int p = model.architecture().parameterCount();
        if (batchedPath) {
            EnsembleSpectra.Measured[] all = spectra.measureAll(t, probe, calls, batched, failures);
            for (int r = 0; r < runs; r++) {
                if (all[r] != null) {
                    snapshots[r] = all[r];
                    norms[r] = all[r].spectralNorm();                                        // L, Eq. 6
                    System.arraycopy(all[r].warmStart(), 0, warmStarts(), r * p, p);
                    SpectrumProbe.State state = spectra.probe(r).state();
                    keep(r, p, state.hessianTop(), 0, state.hessianBottom(), 0);
                }
            }
            return;
        }
        for (int r = 0; r < runs; r++) {
            if (!probe[r]) {
                continue;
            }
            try {
                EnsembleSpectra.Measured measured = spectra.measure(t, r, batchedPath ? calls[r] : -1);
                snapshots[r] = measured;
                norms[r] = measured.spectralNorm();                                          // L, Eq. 6
                if (batchedPath) {
                    System.arraycopy(measured.warmStart(), 0, warmStarts(), r * p, p);
                    SpectrumProbe.State state = spectra.probe(r).state();
                    keep(r, p, state.hessianTop(), 0, state.hessianBottom(), 0);
                }
            } catch (RuntimeException e) {
                failures[r] = e.toString();
            }
        }
    }

    /** Batched path: per run, where its next L starts ([R p], zeros: random from its seed). */
    private double[] warmStarts() {
        if (warmStarts == null) {
            warmStarts = new double[runs * model.architecture().parameterCount()];
        }
        return warmStarts;
    }

    private void batched(boolean[] probe, double[][] moments, double[] norms, String[] failures, boolean withL) {
        int n = data.samples();
        int chunk = gramChunk(n);
        double[] grams = new double[Math.min(chunk, runs) * n * n];
        double[] gram = new double[n * n];
        for (int from = 0; from < runs; from += chunk) {
            int to = Math.min(runs, from + chunk);
            batched.sampleGrams(from, to, grams);
            for (int r = from; r < to; r++) {
                if (probe[r]) {
                    System.arraycopy(grams, (r - from) * n * n, gram, 0, n * n);
                    try {
                        put(moments, r, GradientMoments.fromGram(gram, n));              // Eq. 4-7
                    } catch (RuntimeException e) {
                        failures[r] = e.toString();
                    }
                }
            }
        }
        if (!withL) {
            return;                                                                      // L from the spectra
        }
        boolean[] lanczos = probe.clone();
        for (int r = 0; r < runs; r++) {
            lanczos[r] &= failures[r] == null;
        }
        long[] lanczosSeeds = new long[runs];
        for (int r = 0; r < runs; r++) {
            lanczosSeeds[r] = seeds[r] * 7_919L + calls[r];                              // as SpectrumProbe
        }
        double[] warmStarts = warmStarts();
        BatchedLanczos.Result pairs = BatchedLanczos.extremePairs(batched::hessianTimes, runs, batched.parameterCount(),
                RunCurvature.SPECTRAL_NORM_STEPS, warmStarts, lanczosSeeds, lanczos);
        double[] top = pairs.topVectors();
        double[] bottom = pairs.bottomVectors();
        for (int r = 0; r < runs; r++) {
            if (lanczos[r] && pairs.failures()[r] != null) {
                failures[r] = pairs.failures()[r];
            } else if (lanczos[r]) {
                norms[r] = pairs.spectralNorm(r);                                        // L, Eq. 6
                int p = batched.parameterCount();
                for (int i = r * p; i < (r + 1) * p; i++) {
                    warmStarts[i] = top[i] + bottom[i];
                }
                keep(r, p, top, r * p, bottom, r * p);
            }
        }
    }

    private void oneByOne(boolean[] probe, double[][] moments, double[] norms, String[] failures, boolean withL) {
        for (int r = 0; r < runs; r++) {
            if (!probe[r] || failures[r] != null) {
                continue;
            }
            try {
                NetworkCurvature network = spectra.network(r);
                put(moments, r, GradientMoments.of(network, GradientMoments.DEFAULT_GRAM_LIMIT));   // as RunCurvature
                if (withL) {
                    norms[r] = spectra.probe(r).hessianSpectralNorm(network, RunCurvature.SPECTRAL_NORM_STEPS);
                }
            } catch (RuntimeException e) {
                failures[r] = e.toString();
            }
        }
    }

    /** Batched path: keeps run r's last top and bottom Ritz vectors for {@link #probeState}. */
    private void keep(int r, int p, double[] top, int topAt, double[] bottom, int bottomAt) {
        if (tops == null) {
            tops = new double[runs * p];
            bottoms = new double[runs * p];
        }
        System.arraycopy(top, topAt, tops, r * p, p);
        System.arraycopy(bottom, bottomAt, bottoms, r * p, p);
    }

    /**
     * Run r's probe state in the per-run engine's format ({@link SpectrumProbe.State}: its Lanczos runs so far, the
     * warm starts of its next spectra, and its last top and bottom Ritz vectors of H_f, the warm start of the next L),
     * for its checkpoint.
     */
    SpectrumProbe.State probeState(int r) {
        SpectrumProbe.State own = spectra.probe(r).state();
        if (data.samples() > gramLimit) {
            return own;                                              // the per-run path: the probe counts itself
        }
        int p = model.architecture().parameterCount();
        boolean probed = tops != null && calls[r] > 0;
        return new SpectrumProbe.State(calls[r], own.hessianDirection(), own.secondMomentDirection(),
                own.predictionDirection(),
                probed ? java.util.Arrays.copyOfRange(tops, r * p, (r + 1) * p) : null,
                probed ? java.util.Arrays.copyOfRange(bottoms, r * p, (r + 1) * p) : null);
    }

    /** Continues from per-run probe states ({@link #probeState}; null: the run starts afresh). */
    void restore(SpectrumProbe.State[] states) {
        int p = model.architecture().parameterCount();
        for (int r = 0; r < runs; r++) {
            SpectrumProbe.State state = states[r];
            if (state == null) {
                continue;
            }
            spectra.probe(r).restore(state, settings.precision().dataType());
            if (data.samples() > gramLimit) {
                continue;
            }
            calls[r] = state.calls();
            if (state.hessianTop() != null && state.hessianBottom() != null) {
                double[] starts = warmStarts();
                keep(r, p, state.hessianTop(), 0, state.hessianBottom(), 0);
                for (int i = r * p; i < (r + 1) * p; i++) {
                    starts[i] = tops[i] + bottoms[i];                          // as after its last probe
                }
            }
        }
    }

    private static void put(double[][] columns, int r, GradientMoments m) {
        columns[0][r] = m.gradNormSq();
        columns[1][r] = m.traceM();
        columns[2][r] = m.traceSigma();
        columns[3][r] = m.sigmaFrobenius();
        columns[4][r] = m.sigmaSpectral();
        columns[5][r] = m.sigmaHalfMuNorm();
    }

    /** Frees the per-run code's native op contexts. */
    void close() {
        spectra.close();
    }
}
