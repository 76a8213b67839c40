package io.sgdscope.trainer;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.BatchedLanczos;
import io.sgdscope.trainer.curvature.EigenPairs;
import io.sgdscope.trainer.curvature.GeneralizationTerms;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.model.BatchedCurvature;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.snapshot.SnapshotWriter;
import java.io.IOException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The spectra of the runs of an {@link EnsembleBlock}: where the block's curvature is batched (Gauss-k,
 * {@link #measureAll}) the top-k eigenpairs of H_f, M_t and H_p of all its probed runs come from one Lanczos in lockstep
 * per operator ({@link BatchedLanczos#topEigenpairs}, batched products of {@link BatchedCurvature}), each run from its
 * own probe's warm starts and seeds; otherwise ({@link #measure}) run by run. The rest is per run: each run's theta_t
 * is taken out of the {@link BatchedMlp} (in the block's precision) into one {@link NetworkCurvature} moved from run to
 * run, and the run's own {@link SpectrumProbe} computes what {@link RunCurvature} computes for it on the per-run engine: the top-k eigenpairs of H_f, M_t and H_p
 * with the principal angles (Eq. 13), layer loadings and Davis-Kahan bounds, diag(H_f) and the Corollary 4 terms
 * at theta_t (the same SpectrumSnapshot, built by {@link RunCurvature#snapshot}); the snapshot folders
 * ({@link SnapshotWriter}, same contract and paths); and the Corollary 4 terms at theta_T for RunFinished
 * ({@link RunCurvature#finalTerms}).
 *
 * <p>Each run's probe keeps its warm starts from one snapshot to the next, as on the per-run engine. The probe's
 * count of Lanczos runs, which seeds their random start vectors, is the block's when the L between snapshots comes
 * from the batched path ({@link EnsembleCurvature}: one count for every run), so that each run's sequence of seeds
 * is the per-run engine's.
 *
 * <p>Precision: the network's (the block's) for the products, as on the per-run engine. Holds theta_0 of every run
 * (p values each). Not thread-safe: one per block.
 */
final class EnsembleSpectra implements AutoCloseable {

    private final TrainerSettings settings;
    private final BatchedMlp model;
    private final Dataset data;
    private final String[] runIds;
    private final long[] seeds;
    private final DataType type;
    /**
     * theta_0 of every run in the model's layout (the prior mean of Corollary 4; snapshot folders' theta0.npy): the
     * block's one copy, which ||theta_t - theta_0|| reads too.
     */
    private final INDArray[] start;
    /**
     * Runs whose spectra's Lanczos iterate together at most: each keeps a heap float64 basis of up to 301 vectors of
     * p values per operator (2.8 MB at Gauss-10's p = 1,150), so a block of thousands of runs goes in chunks.
     */
    static final int LANCZOS_CHUNK = 128;

    /** Each run's probe (its warm starts), made when first needed. */
    private final SpectrumProbe[] probes;
    private NetworkCurvature network;

    /**
     * What a spectrum iteration gave for one run.
     *
     * @param record       the SpectrumSnapshot to publish
     * @param spectralNorm L = max |lambda(H_f)| from the snapshot's converged Lanczos (Eq. 6)
     * @param warmStart    the sum of the last top and bottom eigenvectors of H_f in float64: where the next L starts
     */
    record Measured(SpectrumSnapshot record, double spectralNorm, double[] warmStart) {}

    /**
     * About how many bytes it holds per run (in the block size's memory bound, {@link EnsembleBlock#blockSize}):
     * where spectra are due, the probe's five warm-start vectors in the block's precision (theta_0 is the block's
     * copy, counted there).
     */
    static long bytesPerRun(io.sgdscope.trainer.model.MlpArchitecture architecture, TrainerSettings settings) {
        boolean spectra = settings.curvature().spectrumEvery() > 0 || !settings.curvature().snapshotAt().isEmpty();
        return (long) settings.precision().dataType().width() * architecture.parameterCount() * (spectra ? 5 : 0);
    }

    /**
     * @param start theta_0 of every run, a {@link BatchedMlp#copyOfParameters copy} in the model's layout (resumed
     *              runs' theta_0 drawn again from their seed), kept by reference, not copied
     */
    EnsembleSpectra(TrainerSettings settings, BatchedMlp model, Dataset data, String[] runIds, long[] seeds,
                    INDArray[] start) {
        this.settings = settings;
        this.model = model;
        this.data = data;
        this.runIds = runIds.clone();
        this.seeds = seeds.clone();
        this.type = settings.precision().dataType();
        int runs = model.runs();
        this.start = start;
        probes = new SpectrumProbe[runs];
    }

    /** theta_0 of run r, in the block's precision (a copy). */
    INDArray theta0(int r) {
        return Nd4j.createFromArray(model.parametersAsDoubles(start, r)).castTo(type);
    }

    /** theta of run r now, in the block's precision (a copy). */
    INDArray theta(int r) {
        return Nd4j.createFromArray(model.parametersAsDoubles(r)).castTo(type);
    }

    /** The one network of the block, moved to run r's current theta. */
    NetworkCurvature network(int r) {
        INDArray theta = theta(r);
        if (network == null) {
            network = NetworkCurvature.classifier(model.architecture(), theta, data.features(), data.labels(), type);
        } else {
            network.freeze(theta);
        }
        return network;
    }

    /** Run r's probe, as {@link RunCurvature} makes it for the run. */
    SpectrumProbe probe(int r) {
        if (probes[r] == null) {
            probes[r] = new SpectrumProbe(settings.curvature().topK(), RunCurvature.SNAPSHOT_LANCZOS,
                    settings.curvature().fullSpectrum(), seeds[r]);
        }
        return probes[r];
    }

    /**
     * The spectra of run r at its current theta_t (iteration t), as the per-run engine computes them.
     *
     * @param calls the Lanczos runs of this run so far when the block counts them (the batched L), or -1 when the
     *              probe counted them itself
     */
    Measured measure(int t, int r, int calls) {
        long start = System.nanoTime();
        if (calls >= 0) {
            countedCalls(r, calls);
        }
        NetworkCurvature net = network(r);
        Spectra spectra = probe(r).measure(net);                                      // Eq. 13, Sec. 4.4
        SpectrumSnapshot record = RunCurvature.snapshot(settings, runIds[r], theta0(r), t, net, spectra, start);
        return measured(record, spectra, probe(r));
    }

    /**
     * The spectra of the probed runs at their current theta_t (iteration t) with batched products: each of H_f, M_t
     * and H_p by one Lanczos in lockstep for all of them ({@link BatchedLanczos#topEigenpairs}: one batched product
     * per step, each run from its own probe's warm start and seeds, {@link SpectrumProbe#nextStarts}), then per run
     * what {@link #measure} does with the eigenpairs ({@link SpectrumProbe#measured}: the principal angles, layer
     * loadings, Davis-Kahan bounds and warm starts; diag(H_f) and the Corollary 4 terms of the snapshot). The same
     * values as {@link #measure} run by run, up to rounding.
     *
     * @param curvature the block's batched curvature, frozen at the current parameters
     * @param calls     per run, its Lanczos runs so far (the block counts them)
     * @param failures  receives per run why its spectra failed (its tridiagonal eigenproblem), else untouched
     * @return per probed run that did not fail its spectra, else null
     */
    Measured[] measureAll(int t, boolean[] probe, int[] calls, BatchedCurvature curvature, String[] failures) {
        return measureAll(t, probe, calls, curvature, failures, LANCZOS_CHUNK);
    }

    /** {@link #measureAll} with the lockstep Lanczos over chunks of at most {@code chunkRuns} runs (tests). */
    Measured[] measureAll(int t, boolean[] probe, int[] calls, BatchedCurvature curvature, String[] failures,
                          int chunkRuns) {
        long start = System.nanoTime();
        int runs = probe.length;
        int p = model.architecture().parameterCount();
        int k = Math.min(settings.curvature().topK(), p);
        double[][] starts = new double[3][runs * p];
        long[][] lanczosSeeds = new long[3][runs];
        for (int r = 0; r < runs; r++) {
            if (!probe[r]) {
                continue;
            }
            countedCalls(r, calls[r]);
            SpectrumProbe.Starts next = probe(r).nextStarts();
            put(next.hessian(), starts[0], r * p);
            put(next.secondMoment(), starts[1], r * p);
            put(next.prediction(), starts[2], r * p);
            lanczosSeeds[0][r] = next.hessianSeed();
            lanczosSeeds[1][r] = next.secondMomentSeed();
            lanczosSeeds[2][r] = next.predictionSeed();
        }
        BatchedLanczos.MaskedOperator[] operators = {curvature::hessianTimes, curvature::secondMomentTimes,
                curvature::predictionHessianTimes};
        boolean[] active = probe.clone();
        EigenPairs[][] pairs = new EigenPairs[3][runs];
        for (int from = 0; from < runs; from += chunkRuns) {            // bounds the heap the bases take
            boolean[] chunk = new boolean[runs];
            for (int r = from; r < Math.min(runs, from + chunkRuns); r++) {
                chunk[r] = active[r];
            }
            for (int o = 0; o < 3; o++) {                               // H_f, M_t, H_p: one lockstep Lanczos each
                BatchedLanczos.TopPairs top = BatchedLanczos.topEigenpairs(operators[o], runs, p, k,
                        RunCurvature.SNAPSHOT_LANCZOS, starts[o], lanczosSeeds[o], chunk, type);
                for (int r = 0; r < runs; r++) {
                    if (!chunk[r]) {
                        continue;
                    }
                    pairs[o][r] = top.pairs()[r];
                    if (top.failures()[r] != null) {
                        failures[r] = top.failures()[r];
                        chunk[r] = false;                               // as the per-run engine: that run fails
                        active[r] = false;
                    }
                }
            }
        }
        double share = (System.nanoTime() - start) / 1e9 / Math.max(1, count(probe));
        Measured[] measured = new Measured[runs];
        for (int r = 0; r < runs; r++) {
            if (!active[r]) {
                continue;
            }
            try {
                // probeSeconds: this run's own work and an even share of the batched Lanczos.
                long own = System.nanoTime() - (long) (share * 1e9);
                NetworkCurvature net = network(r);
                Spectra spectra = probe(r).measured(net, pairs[0][r], pairs[1][r], pairs[2][r], own);
                SpectrumSnapshot record = RunCurvature.snapshot(settings, runIds[r], theta0(r), t, net, spectra, own);
                measured[r] = measured(record, spectra, probe(r));
            } catch (RuntimeException e) {
                failures[r] = e.toString();
            }
        }
        return measured;
    }

    private static int count(boolean[] flags) {
        int count = 0;
        for (boolean flag : flags) {
            count += flag ? 1 : 0;
        }
        return count;
    }

    /** A start vector (null: zeros, a random start) into run r's place of a batched array, in float64. */
    private static void put(INDArray vector, double[] into, int at) {
        if (vector != null) {
            double[] values = vector.toDoubleVector();
            System.arraycopy(values, 0, into, at, values.length);
        }
    }

    /** Sets run r's probe's count of Lanczos runs to the block's. */
    private void countedCalls(int r, int calls) {
        SpectrumProbe probe = probe(r);
        SpectrumProbe.State state = probe.state();
        probe.restore(new SpectrumProbe.State(calls, state.hessianDirection(), state.secondMomentDirection(),
                state.predictionDirection(), state.hessianTop(), state.hessianBottom()), type);
    }

    /** What a spectrum iteration gave: the record, L and the next L's warm start from the probe's H_f pairs. */
    private static Measured measured(SpectrumSnapshot record, Spectra spectra, SpectrumProbe probe) {
        SpectrumProbe.State state = probe.state();
        double[] warmStart = state.hessianTop().clone();
        double[] bottom = state.hessianBottom();
        for (int i = 0; i < warmStart.length; i++) {
            warmStart[i] += bottom[i];
        }
        return new Measured(record, spectra.hessianSpectralNorm(), warmStart);
    }

    /** The Corollary 4 terms of run r at its current theta (theta_T, or theta_t of a run that diverged at t). */
    GeneralizationTerms finalTerms(int r) {
        return RunCurvature.finalTerms(settings, theta0(r), network(r));
    }

    /**
     * Writes run r's snapshot folder of iteration t at its current theta_t ({@link SnapshotWriter}: the per-run
     * engine's contract and paths), with the values just published for it.
     */
    void writeSnapshot(int t, int r, IterationMetrics metrics, SpectrumSnapshot spectrum) {
        try {
            SnapshotWriter.write(settings.curvature().snapshotDir(), runIds[r], t, model.architecture(), data.features(),
                    data.labels(), theta(r), theta0(r), settings.curvature().topK(), settings.priorSigma(), metrics,
                    spectrum);
        } catch (IOException e) {
            throw SnapshotWriter.unchecked(runIds[r] + " at t = " + t, e);
        }
    }

    @Override
    public void close() {
        if (network != null) {
            network.close();
            network = null;
        }
    }
}
