package io.sgdscope.trainer;

import io.sgdscope.schemas.Ids;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.DatasetSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.ModelPreset;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines an experiment: R runs of SGD (Eq. 8) on one training set (Gauss-k, Sec. A.1;
 * MNIST or CIFAR-10, Sec. A.2), differing only in their seed. Validated on construction: an invalid value throws
 * {@link IllegalArgumentException} with one line that names the setting.
 *
 * <p>{@link #defaults()} is the paper's Gauss-10 experiment (Table 2, Fig. 8): n = 100, d = 50,
 * k = 10, clean labels, layers [50, 10, 30, 10], m = 5, eta = 0.1, 400 iterations; plus our choices
 * standardised features and he-normal initialisation (docs/pitfalls.md explains both), float64, a held-out
 * test set of 100 samples from the same blobs evaluated every {@value #DEFAULT_TEST_EVERY} iterations,
 * and the curvature telemetry of {@link CurvatureSettings#defaults()}.
 *
 * @param experimentId   groups the runs; an {@link Ids id} of at most {@value #MAX_EXPERIMENT_ID_LENGTH} characters
 * @param runs           R, the number of runs (1 .. 100,000: run ids carry a 5-digit index)
 * @param iterations     T, SGD iterations per run; IterationMetrics are published for t = 0 .. T-1
 * @param baseSeed       each run's seed is derived from it and the run index ({@link Experiment#runSeed})
 * @param learningRate   eta > 0, the constant step size (Eq. 8); the adaptive optimizers' step while L is
 *                       unknown, Adam's step size
 * @param optimizer      the update rule (vanilla SGD, Theorem 3's adaptive step or diagonal preconditioner, Adam)
 * @param batchSize      m, 1 <= m <= n, drawn with replacement
 * @param dataset        the training set (and its test set): Gauss-k (n, d, k, r, its seed, standardisation),
 *                       MNIST or CIFAR-10 (folder, limits)
 * @param testEvery      f and the accuracy on the test set go into the iteration records at t = 0, N, 2N, ...;
 *                       0 = never (ignored without a test set)
 * @param layers         widths [d, h_1, ..., k] (the {@link ModelPreset}s are the paper's)
 * @param initialization how theta_0 is drawn
 * @param precision      float64 (tested) or float32
 * @param workers        threads that train runs in parallel; results do not depend on it
 * @param curvature      the curvature telemetry (moments, spectra, snapshots; Sec. 4, 6)
 * @param checkpoint     where and how often runs save their state, and whether the experiment resumes from it
 * @param engine         ensemble (blocks of runs in batched products), the default and the one engine of an
 *                       {@link Experiment}; per-run names the retired engine, the tests' reference (see {@link Engine})
 * @param ensembleBlock  ensemble engine: runs per batched block; 0 = automatic (the runs split evenly across the
 *                       workers, so that all of them advance in lockstep, as far as {@link EnsembleBlock#blockSize}'s
 *                       memory bound allows); a worker trains one block at a time
 * @param shard          the part of the runs this process trains ({@link Shard}: shard i of N trains run indices
 *                       [floor((i-1) R / N), floor(i R / N)) with the ids and seeds the whole experiment gives them);
 *                       {@link Shard#WHOLE} for all; N must not exceed R
 */
public record TrainerSettings(String experimentId, int runs, int iterations, long baseSeed, double learningRate,
                              OptimizerSettings optimizer, int batchSize, DatasetSettings dataset, int testEvery, List<Integer> layers,
                              Initialization initialization, Precision precision, int workers,
                              CurvatureSettings curvature, CheckpointSettings checkpoint, Engine engine,
                              int ensembleBlock, Shard shard) {

    /** Run ids are experimentId + "-r" + a 5-digit index. */
    public static final int MAX_RUNS = 100_000;

    /** Runs per batched block of the ensemble engine unless set otherwise: 0, automatic. */
    public static final int DEFAULT_ENSEMBLE_BLOCK = 0;

    /** Test loss and accuracy every this many iterations unless set otherwise. */
    public static final int DEFAULT_TEST_EVERY = 10;

    /** The longest experiment id whose run ids ({@link Experiment#runId}: 7 more characters) are valid {@link Ids}. */
    public static final int MAX_EXPERIMENT_ID_LENGTH = Ids.MAX_LENGTH - "-r00000".length();

    /**
     * Checks an experiment id: an {@link Ids id} short enough that its run ids are ids too.
     *
     * @throws IllegalArgumentException with one line saying what is wrong
     */
    public static void requireValidExperimentId(String experimentId) {
        Ids.require("experiment id", experimentId);
        if (experimentId.length() > MAX_EXPERIMENT_ID_LENGTH) {
            throw new IllegalArgumentException("experiment id is " + experimentId.length() + " characters long, at most "
                    + MAX_EXPERIMENT_ID_LENGTH + " allowed (its run ids add -r and 5 digits, " + Ids.MAX_LENGTH + " at most)");
        }
    }

    /** Settings of the whole experiment (every run in this process). */
    public TrainerSettings(String experimentId, int runs, int iterations, long baseSeed, double learningRate,
                           OptimizerSettings optimizer, int batchSize, DatasetSettings dataset, int testEvery,
                           List<Integer> layers, Initialization initialization, Precision precision, int workers,
                           CurvatureSettings curvature, CheckpointSettings checkpoint, Engine engine, int ensembleBlock) {
        this(experimentId, runs, iterations, baseSeed, learningRate, optimizer, batchSize, dataset, testEvery, layers,
                initialization, precision, workers, curvature, checkpoint, engine, ensembleBlock, Shard.WHOLE);
    }

    public TrainerSettings {
        requireValidExperimentId(experimentId);
        if (runs < 1 || runs > MAX_RUNS) {
            throw new IllegalArgumentException("runs must be between 1 and " + MAX_RUNS + ", got " + runs);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        if (Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite, got " + learningRate);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer settings are required (OptimizerSettings.sgd() for vanilla SGD)");
        }
        if (dataset == null) {
            throw new IllegalArgumentException("dataset settings are required");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (dataset.samples().isPresent() && batchSize > dataset.samples().getAsInt()) {
            throw new IllegalArgumentException("batch size " + batchSize + " is larger than the training set (n = "
                    + dataset.samples().getAsInt() + ")");
        }
        if (testEvery < 0) {
            throw new IllegalArgumentException("test-every must be >= 0 (0 = never), got " + testEvery);
        }
        if (layers == null || layers.size() < 2) {
            throw new IllegalArgumentException("layers must list at least the input and output widths [d, ..., k], got "
                    + layers);
        }
        for (Integer width : layers) {
            if (width == null || width < 1) {
                throw new IllegalArgumentException("layer widths must be >= 1, got " + layers);
            }
        }
        layers = List.copyOf(layers);
        new io.sgdscope.trainer.model.MlpArchitecture(layers);  // refuses a network whose p does not fit one array
        if (layers.get(0) != dataset.inputDimension() || layers.get(layers.size() - 1) != dataset.classes()) {
            throw new IllegalArgumentException("layers must start with the input dimension d = " + dataset.inputDimension()
                    + " and end with the number of classes k = " + dataset.classes() + ", got " + layers);
        }
        if (initialization == null) {
            throw new IllegalArgumentException("initialization is required (standard-normal or he-normal)");
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision is required (float64 or float32)");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }
        if (curvature == null) {
            throw new IllegalArgumentException("curvature settings are required (CurvatureSettings.off() for none)");
        }
        if (checkpoint == null) {
            throw new IllegalArgumentException("checkpoint settings are required (CheckpointSettings.off() for none)");
        }
        if (optimizer.usesCurvature() && curvature.momentsEvery() == 0 && curvature.spectrumEvery() == 0) {
            throw new IllegalArgumentException("optimizer " + optimizer.name() + " needs L = max|eig(H_f)| (Theorem 3): "
                    + "set moments-every or spectrum-every > 0");
        }
        if (engine == null) {
            throw new IllegalArgumentException("engine is required (ensemble)");
        }
        if (ensembleBlock < 0) {
            throw new IllegalArgumentException("ensemble block must be >= 1 runs, or 0 for automatic, got " + ensembleBlock);
        }
        if (shard == null) {
            throw new IllegalArgumentException("shard is required (Shard.WHOLE for every run)");
        }
        if (shard.count() > runs) {
            throw new IllegalArgumentException("shard " + shard + ": " + shard.count() + " shards of " + runs
                    + " runs would leave a shard without runs (N must be at most the runs)");
        }
        for (int t : curvature.snapshotAt()) {
            if (t >= iterations) {
                throw new IllegalArgumentException("snapshot-at iteration " + t + " is past the last iteration ("
                        + (iterations - 1) + ")");
            }
        }
    }

    /** The paper's Gauss-10 experiment (see the class comment), 100 runs. */
    public static TrainerSettings defaults() {
        return new TrainerSettings("gauss10", 100, 400, 1L, 0.1, OptimizerSettings.sgd(), 5,
                DatasetSettings.gaussK(GaussKSettings.GAUSS_10),
                DEFAULT_TEST_EVERY, List.of(50, 10, 30, 10),
                Initialization.HE_NORMAL, Precision.FLOAT64, Runtime.getRuntime().availableProcessors(),
                CurvatureSettings.defaults(), CheckpointSettings.off(), Engine.ENSEMBLE, DEFAULT_ENSEMBLE_BLOCK);
    }

    /** A builder that starts from {@link #defaults()}. */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /** A builder that starts from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Every setting as name -> text, for {@code RunStarted.settings}. */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("experimentId", experimentId);
        map.put("runs", Integer.toString(runs));
        map.put("iterations", Integer.toString(iterations));
        map.put("baseSeed", Long.toString(baseSeed));
        map.put("learningRate", Double.toString(learningRate));
        map.putAll(optimizer.asMap());
        map.put("batchSize", Integer.toString(batchSize));
        map.putAll(dataset.asMap());
        map.put("testEvery", Integer.toString(testEvery));
        map.put("model", ModelPreset.matching(layers).map(ModelPreset::id).orElse("custom"));
        map.put("layers", layers.toString());
        map.put("initialization", initialization.id());
        map.put("precision", precision.id());
        map.put("workers", Integer.toString(workers));
        map.put("curvature.momentsEvery", Integer.toString(curvature.momentsEvery()));
        map.put("curvature.spectrumEvery", Integer.toString(curvature.spectrumEvery()));
        map.put("curvature.topK", Integer.toString(curvature.topK()));
        map.put("curvature.fullSpectrum", Boolean.toString(curvature.fullSpectrum()));
        map.put("curvature.snapshotAt", curvature.snapshotAt().toString());
        map.put("curvature.snapshotDir", curvature.snapshotDir() == null ? "" : curvature.snapshotDir().toString());
        map.put("curvature.priorSigma", Double.toString(priorSigma()));
        map.put("curvature.boundDelta", Double.toString(curvature.boundDelta()));
        map.putAll(checkpoint.asMap());
        map.put("engine", engine.id());
        map.put("ensembleBlock", Integer.toString(ensembleBlock));
        if (shard.isPart()) {
            map.put("shard", shard.toString());      // only when sharded: unsharded maps (and checkpoints) stay as before
        }
        return map;
    }

    /** The first run index this process trains ({@link Shard#firstRun}). */
    public int firstRun() {
        return shard.firstRun(runs);
    }

    /** One past the last run index this process trains ({@link Shard#endRun}). */
    public int endRun() {
        return shard.endRun(runs);
    }

    /** The runs this process trains: all R, or its shard's. */
    public int shardRuns() {
        return shard.runs(runs);
    }

    /** sigma of the Corollary 4 prior: the setting, or else the initialisation's scale for these layers. */
    public double priorSigma() {
        return curvature.priorSigma() != null ? curvature.priorSigma()
                : initialization.priorScale(new io.sgdscope.trainer.model.MlpArchitecture(layers));
    }

    /** Mutable helper to change a few settings; {@link #build()} validates. */
    public static final class Builder {
        private String experimentId;
        private int runs;
        private int iterations;
        private long baseSeed;
        private double learningRate;
        private OptimizerSettings optimizer;
        private int batchSize;
        private DatasetSettings dataset;
        private int testEvery;
        private List<Integer> layers;
        private Initialization initialization;
        private Precision precision;
        private int workers;
        private CurvatureSettings curvature;
        private CheckpointSettings checkpoint;
        private Engine engine;
        private int ensembleBlock;
        private Shard shard;

        private Builder(TrainerSettings from) {
            experimentId = from.experimentId;
            runs = from.runs;
            iterations = from.iterations;
            baseSeed = from.baseSeed;
            learningRate = from.learningRate;
            optimizer = from.optimizer;
            batchSize = from.batchSize;
            dataset = from.dataset;
            testEvery = from.testEvery;
            layers = from.layers;
            initialization = from.initialization;
            precision = from.precision;
            workers = from.workers;
            curvature = from.curvature;
            checkpoint = from.checkpoint;
            engine = from.engine;
            ensembleBlock = from.ensembleBlock;
            shard = from.shard;
        }

        public Builder experimentId(String value) {
            experimentId = value;
            return this;
        }

        public Builder runs(int value) {
            runs = value;
            return this;
        }

        public Builder iterations(int value) {
            iterations = value;
            return this;
        }

        public Builder baseSeed(long value) {
            baseSeed = value;
            return this;
        }

        public Builder learningRate(double value) {
            learningRate = value;
            return this;
        }

        public Builder optimizer(OptimizerSettings value) {
            optimizer = value;
            return this;
        }

        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder dataset(DatasetSettings value) {
            dataset = value;
            return this;
        }

        /** Gauss-k with these generator settings and a test set of n samples. */
        public Builder dataset(GaussKSettings value) {
            dataset = DatasetSettings.gaussK(value);
            return this;
        }

        public Builder testEvery(int value) {
            testEvery = value;
            return this;
        }

        public Builder layers(List<Integer> value) {
            layers = value;
            return this;
        }

        public Builder initialization(Initialization value) {
            initialization = value;
            return this;
        }

        public Builder precision(Precision value) {
            precision = value;
            return this;
        }

        public Builder workers(int value) {
            workers = value;
            return this;
        }

        public Builder curvature(CurvatureSettings value) {
            curvature = value;
            return this;
        }

        public Builder checkpoint(CheckpointSettings value) {
            checkpoint = value;
            return this;
        }

        public Builder engine(Engine value) {
            engine = value;
            return this;
        }

        public Builder ensembleBlock(int value) {
            ensembleBlock = value;
            return this;
        }

        public Builder shard(Shard value) {
            shard = value;
            return this;
        }

        public TrainerSettings build() {
            return new TrainerSettings(experimentId, runs, iterations, baseSeed, learningRate, optimizer, batchSize, dataset,
                    testEvery,
                    layers,
                    initialization, precision, workers, curvature, checkpoint, engine, ensembleBlock, shard);
        }
    }
}
