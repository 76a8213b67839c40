package io.sgdscope.cli;

import io.sgdscope.trainer.Engine;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.DatasetException;
import io.sgdscope.trainer.data.DatasetSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.ModelPreset;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Every trainer setting as command-line options, shared by {@code train} and {@code demo}; turned into
 * {@link TrainerSettings} (which validates) in one place. Defaults are the paper's Gauss-10 experiment
 * (Table 2, Sec. A.1); on MNIST and CIFAR-10 (Sec. A.2) a few defaults follow Table 3 instead (batch
 * size, network) and the curvature probes are off unless asked for.
 */
final class TrainerOptions {

    static final String GAUSS_K = "gauss-k";

    @Option(names = "--experiment", paramLabel = "ID",
            description = "Experiment id that groups the runs: 1 to 93 letters, digits, . _ - (not . or ..). "
                    + "Default: gauss<k>-<date>-<time>.")
    String experimentId;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "100",
            description = "Runs of the experiment, each with its own seed. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--iterations", paramLabel = "T", defaultValue = "400",
            description = "SGD iterations per run. Default: ${DEFAULT-VALUE} (Table 2, Gauss-10).")
    int iterations;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Base seed; run i's seed (initialisation, minibatches) derives from it. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = {"--lr", "--learning-rate"}, paramLabel = "ETA", defaultValue = "0.1",
            description = "Step size eta, > 0: SGD's constant step (Eq. 8), Adam's step, and the adaptive optimizers' "
                    + "step until L is known. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = OptimizerSettings.SGD,
            description = "Update rule: sgd (constant step --lr, Eq. 8); adaptive (Theorem 3's step eta_t = kappa ||mu||^2 / "
                    + "(L Tr M), Eq. 35, exact where --moments-every computes the moments, else estimated; --lr until L is "
                    + "known); diagonal (Theorem 3's preconditioner a_j = kappa mu_j^2 / (L M_jj), Eq. 36/41); adam "
                    + "(Eq. 37-39, step --lr). adaptive and diagonal need --moments-every or --spectrum-every > 0. "
                    + "RunStarted records sgd, adaptive-step, diagonal-preconditioned or adam; every record the step "
                    + "actually taken. Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--kappa", paramLabel = "K", defaultValue = "" + OptimizerSettings.DEFAULT_KAPPA,
            description = "adaptive, diagonal: where the step sits in Theorem 3's interval (Eq. 35, 36), in (0.5, 1.5); "
                    + "1 = its middle. Default: ${DEFAULT-VALUE}.")
    double kappa;

    @Option(names = "--moment-decay", paramLabel = "B", defaultValue = "" + OptimizerSettings.DEFAULT_MOMENT_DECAY,
            description = "adaptive: decay of the moving averages of g_t.g_{t-1} and ||g_t||^2 that estimate ||mu||^2 and "
                    + "Tr M between moments iterations, in [0, 1). Default: ${DEFAULT-VALUE}.")
    double momentDecay;

    @Option(names = "--beta1", paramLabel = "G1", defaultValue = "" + OptimizerSettings.DEFAULT_BETA1,
            description = "adam, diagonal: decay gamma_1 of the gradient average (Eq. 37), in [0, 1). Default: ${DEFAULT-VALUE}.")
    double beta1;

    @Option(names = "--beta2", paramLabel = "G2", defaultValue = "" + OptimizerSettings.DEFAULT_BETA2,
            description = "adam, diagonal: decay gamma_2 of the squared-gradient average (Eq. 38), in [0, 1). "
                    + "Default: ${DEFAULT-VALUE}.")
    double beta2;

    @Option(names = "--adam-epsilon", paramLabel = "EPS", defaultValue = "" + OptimizerSettings.DEFAULT_EPSILON,
            description = "adam: epsilon in eta g / (sqrt(nu) + epsilon), > 0. Default: ${DEFAULT-VALUE}.")
    double adamEpsilon;

    @Option(names = "--batch-size", paramLabel = "M",
            description = "Minibatch size m, drawn with replacement, 1 <= m <= n. Default: 5 on gauss-k (Table 2), "
                    + "64 on mnist, 256 on cifar10 (Table 3's smallest).")
    Integer batchSize;

    @Option(names = "--dataset", paramLabel = "NAME", defaultValue = GAUSS_K,
            description = "Training set: gauss-k (Gaussian blobs generated from --data-seed, Sec. A.1), mnist or cifar10 "
                    + "(the standard files in --data-dir, Sec. A.2). Default: ${DEFAULT-VALUE}.")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "mnist, cifar10: the folder of the dataset's files (MNIST: train-images-idx3-ubyte, "
                    + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; CIFAR-10 binary version: "
                    + "data_batch_1.bin .. data_batch_5.bin, test_batch.bin; each plain or .gz). Nothing is downloaded.")
    Path dataDir;

    @Option(names = "--samples", paramLabel = "N",
            description = "Training samples n: gauss-k generates n (default 100); mnist and cifar10 train on their first "
                    + "n training images (default: all; the normalisation always uses all).")
    Integer samples;

    @Option(names = "--input-dim", paramLabel = "D",
            description = "gauss-k: input dimension d. Default: 50.")
    Integer inputDimension;

    @Option(names = "--classes", paramLabel = "K",
            description = "gauss-k: classes k (one blob each). Default: 10.")
    Integer classes;

    @Option(names = "--random-labels", paramLabel = "R",
            description = "gauss-k: fraction r of each class's labels replaced by uniformly drawn ones, in [0, 1]. Default: 0.")
    Double randomLabelFraction;

    @Option(names = "--data-seed", paramLabel = "N",
            description = "gauss-k: seed of the data generator (all runs share the data). Default: 1.")
    Long dataSeed;

    @Option(names = "--standardize", negatable = true,
            description = "gauss-k: standardise each feature with the training set's mean and standard deviation "
                    + "(--no-standardize keeps raw blobs, on which most runs stall near chance loss). Default: on. "
                    + "(MNIST and CIFAR-10 are always normalised with their training set's statistics, Sec. A.2.)")
    Boolean standardize;

    @Option(names = "--test-set", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Evaluate the runs on a held-out test set: gauss-k draws one from the same blobs (clean labels), "
                    + "mnist and cifar10 use their test files (then required). --no-test-set: none. Default: on.")
    boolean testSet;

    @Option(names = "--test-samples", paramLabel = "N",
            description = "Size of the test set: gauss-k draws N samples (default: as many as --samples); mnist and "
                    + "cifar10 use their first N test images (default: all 10,000).")
    Integer testSamples;

    @Option(names = "--test-every", paramLabel = "N", defaultValue = "" + TrainerSettings.DEFAULT_TEST_EVERY,
            description = "Test loss and accuracy into the iteration records at t = 0, N, 2N, ...; 0 = never. "
                    + "Default: ${DEFAULT-VALUE}.")
    int testEvery;

    @Option(names = "--model", paramLabel = "PRESET",
            description = "One of the paper's networks by name: gauss2, gauss10 (Table 2), mnist-mlp3 .. mnist-mlp6, "
                    + "cifar-mlp3, cifar-mlp6 (Table 3); an alternative to --layers. Default: gauss-k d,10,30,k; "
                    + "mnist-mlp3 on mnist; cifar-mlp3 on cifar10.")
    String model;

    @Option(names = "--layers", paramLabel = "W", split = ",",
            description = "Layer widths d,h1,...,k of the ReLU network (any fully connected net; e.g. 50,10,30,10, "
                    + "p = 1150). Default: see --model.")
    List<Integer> layers;

    @Option(names = "--init", paramLabel = "NAME", defaultValue = "he-normal",
            description = "Initialisation of theta_0: he-normal (weights N(0, 2/fan_in), biases 0) or standard-normal "
                    + "(N(0, I), Sec. A.1). Default: ${DEFAULT-VALUE}.")
    String initialization;

    @Option(names = "--precision", paramLabel = "NAME", defaultValue = "float64",
            description = "Floating-point precision of training: float64 or float32. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--workers", paramLabel = "N",
            description = "Threads training blocks of runs in parallel (results do not depend on it; at most one per "
                    + "run). Default: the number of cores.")
    Integer workers;

    @Option(names = "--engine", paramLabel = "NAME", defaultValue = "ensemble",
            description = "The one engine: ensemble (blocks of runs in batched rank-3 matrix products, each run with its "
                    + "own optimizer state; a block of one run gives what the retired per-run engine gave). Kept so that "
                    + "scripts passing --engine ensemble still work; --engine per-run is refused (the per-run engine was "
                    + "retired). Default: ${DEFAULT-VALUE}.")
    String engine;

    @Option(names = "--ensemble-block", paramLabel = "R", defaultValue = "" + TrainerSettings.DEFAULT_ENSEMBLE_BLOCK,
            description = "ensemble: runs per batched block; each worker trains one block at a time. 0 = automatic: the "
                    + "runs split evenly across the workers, so all of them advance in lockstep and the live cross-run "
                    + "bands cover every run, within about 1 GiB of arrays per worker (Gauss-10: ~25 KB per run in "
                    + "float32; MNIST: ~100 MB, so a few runs per block). R > 0: blocks of R runs, trained one after the "
                    + "other, so only the runs of the blocks in training advance together. Default: ${DEFAULT-VALUE} "
                    + "(automatic).")
    int ensembleBlock;

    @Option(names = "--moments-every", paramLabel = "N",
            description = "Exact full-batch gradient moments (||mu||^2, Tr M, Tr/Frobenius/spectral norm of Sigma, "
                    + "||Sigma^1/2 mu||; Eq. 4-7, Thm 1) and L = max|eig(H_f)| into the iteration records at t = 0, N, 2N, ...; "
                    + "0 = never; computed for all runs of a block at once. Default: " + CurvatureSettings.DEFAULT_MOMENTS_EVERY
                    + " on gauss-k (at N = 10 on Gauss-10 in float64 about 6 times the CPU time of training without "
                    + "them: bench/ensemble; 0 for a cheap ensemble of thousands of runs); 0 on mnist and cifar10 (on "
                    + "n = 50,000-60,000 samples each costs far more than an SGD step).")
    Integer momentsEvery;

    @Option(names = "--spectrum-every", paramLabel = "N",
            description = "A spectrum snapshot (top-k eigenpairs of H_f, M_t, H_p by Lanczos, principal angles, layer "
                    + "loadings, Davis-Kahan bounds, diag(H_f), Corollary 4 terms) to sgd.spectra at t = 0, N, 2N, ...; "
                    + "0 = never; each run's spectra are computed run by run. Default: " + CurvatureSettings.DEFAULT_SPECTRUM_EVERY
                    + " on gauss-k; 0 on mnist and cifar10.")
    Integer spectrumEvery;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "" + CurvatureSettings.DEFAULT_TOP_K,
            description = "Eigenpairs per operator in spectrum snapshots (Fig. 2-4), 1..200. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--full-spectrum", defaultValue = "false",
            description = "Also publish all eigenvalues of the dense H_f and M_t in spectrum snapshots (Fig. 1); only for "
                    + "p <= 4096 parameters (ignored above); each snapshot then forms and diagonalises two dense p x p "
                    + "matrices. Default: off.")
    boolean fullSpectrum;

    @Option(names = "--snapshot-at", paramLabel = "T", split = ",",
            description = "Iterations t1,t2,... at which each run writes a snapshot folder <snapshot-dir>/<runId>/<t>/ "
                    + "(meta.json, X.npy, y.npy, W{l}.npy, b{l}.npy, theta0.npy, published.json) for offline checking; "
                    + "moments and a spectrum are computed there too. Default: none.")
    List<Integer> snapshotAt;

    @Option(names = "--snapshot-dir", paramLabel = "DIR",
            description = "Root folder of the snapshot folders; required with --snapshot-at. Default: none.")
    Path snapshotDir;

    @Option(names = "--prior-sigma", paramLabel = "SIGMA",
            description = "Scale sigma of the PAC-Bayes prior N(theta_0, sigma^2 I) of Corollary 4 (Eq. 52), > 0. "
                    + "Default: the initialisation's scale (1 for standard-normal; for he-normal the root mean square "
                    + "of its per-parameter standard deviations, 0.295 for Gauss-10).")
    Double priorSigma;

    @Option(names = "--bound-delta", paramLabel = "DELTA", defaultValue = "" + CurvatureSettings.DEFAULT_BOUND_DELTA,
            description = "Confidence delta of the generalization bound of Eq. 52, in (0, 1). Default: ${DEFAULT-VALUE}.")
    double boundDelta;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Folder of the runs' checkpoints: each run saves its state (theta, optimizer state, sampler "
                    + "position, counters) to DIR/<experiment>/<runId>.ckpt, atomically, every --checkpoint-every "
                    + "iterations, when it finishes, and when Ctrl-C stops it (it is then suspended: no RunFinished, "
                    + "--resume continues it). Default: no checkpoints.")
    Path checkpointDir;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0",
            description = "A checkpoint after every N iterations, once their records are acknowledged by Kafka (training "
                    + "does not wait for it unless checkpoints come faster than acknowledgements); 0 = only when a run "
                    + "stops. Needs --checkpoint-dir. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--resume",
            description = "Continue experiment --experiment from its checkpoints in --checkpoint-dir: finished runs are "
                    + "skipped, unfinished ones continue with the same runId from their last checkpoint (iterations "
                    + "published again after a crash are identical and counted once by the streams apps), runs without "
                    + "a checkpoint start afresh. Only --workers and the checkpoint options may differ from the first start.")
    boolean resume;

    /**
     * The settings these options describe. For mnist and cifar10 it also checks, without reading them, that
     * the data files are there: a missing file is a runtime failure named before anything starts.
     *
     * @throws IllegalArgumentException with one line naming the bad setting
     * @throws SgdscopeException        naming the missing data files, where they are expected and how to get them
     */
    TrainerSettings toSettings() {
        if (experimentId != null) {
            try {
                TrainerSettings.requireValidExperimentId(experimentId); // names checkpoint folders: checked first
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--experiment: " + e.getMessage(), e);
            }
        }
        DatasetSettings data = datasetSettings();
        if (resume && experimentId == null) {
            throw new IllegalArgumentException("--resume needs --experiment ID, the experiment to continue");
        }
        TrainerSettings settings = new TrainerSettings(experimentId != null ? experimentId : defaultExperimentId(data),
                runs, iterations, seed, learningRate,
                new OptimizerSettings(optimizer, kappa, momentDecay, beta1, beta2, adamEpsilon),
                batchSize != null ? batchSize : defaultBatchSize(), data, testEvery,
                layers(data), Initialization.fromId(initialization), Precision.fromId(precision),
                workers != null ? workers : Runtime.getRuntime().availableProcessors(), curvature(),
                new CheckpointSettings(checkpointDir, checkpointEvery, resume), engine(), ensembleBlock);
        checkFitsInMemory(settings, Runtime.getRuntime().maxMemory());
        try {
            data.checkFiles();
        } catch (DatasetException e) {
            throw new SgdscopeException(e.getMessage(), e);
        }
        return settings;
    }

    /**
     * Refuses, before anything is allocated, settings whose arrays cannot fit in {@code available} bytes (the most
     * the JVM may use: ND4J's off-heap arrays are bounded by the same figure, JavaCPP's maxBytes defaulting to the
     * maximum heap). Counts only what training surely holds: the features of the training and test sets, and for
     * each worker (training a block of at least one run) one run's theta, its gradient and the activations of one
     * full-batch pass. A lower bound, so it never refuses
     * settings that would fit.
     */
    static void checkFitsInMemory(TrainerSettings settings, long available) {
        DatasetSettings data = settings.dataset();
        boolean generated = data.gaussK() != null;
        long n = data.samples().orElse(DatasetSettings.MNIST.equals(data.name()) ? 60_000 : 50_000);
        long nTest = !data.testSet() ? 0 : data.testSamples() > 0 ? data.testSamples() : generated ? n : 10_000;
        List<Integer> widths = settings.layers();
        long p = new io.sgdscope.trainer.model.MlpArchitecture(widths).parameterCount();
        long activations = 0;
        for (int l = 1; l < widths.size(); l++) {
            activations += widths.get(l);
        }
        long workers = Math.max(1, Math.min(settings.workers(), settings.runs()));
        long element = settings.precision() == Precision.FLOAT32 ? 4 : 8;
        double needed = (double) element * ((n + nTest) * (double) data.inputDimension()
                + workers * (2.0 * p + n * (double) activations));
        if (needed > available) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "these settings need at least %.1f GiB "
                            + "of arrays (n = %,d samples and %,d test samples of d = %,d, p = %,d parameters, %d workers), more "
                            + "than the %.1f GiB this JVM may use (-Xmx, e.g. in SGDSCOPE_JAVA_OPTS)", needed / (1L << 30), n,
                    nTest, data.inputDimension(), p, workers, available / (double) (1L << 30)));
        }
    }

    private DatasetSettings datasetSettings() {
        if (!DatasetSettings.NAMES.contains(dataset)) {
            throw new IllegalArgumentException("unknown dataset '" + dataset + "' (known: "
                    + String.join(", ", DatasetSettings.NAMES) + ")");
        }
        if (GAUSS_K.equals(dataset)) {
            if (dataDir != null) {
                throw new IllegalArgumentException("--data-dir is for mnist and cifar10; gauss-k is generated (--data-seed)");
            }
            GaussKSettings blobs = new GaussKSettings(samples != null ? samples : 100,
                    inputDimension != null ? inputDimension : 50, classes != null ? classes : 10,
                    randomLabelFraction != null ? randomLabelFraction : 0.0, dataSeed != null ? dataSeed : 1L,
                    standardize == null || standardize);
            return new DatasetSettings(GAUSS_K, blobs, null, 0, testSet, testSamples != null ? testSamples : 0);
        }
        String[][] gaussOnly = {{"--input-dim", str(inputDimension)}, {"--classes", str(classes)},
            {"--random-labels", str(randomLabelFraction)}, {"--data-seed", str(dataSeed)},
            {"--standardize/--no-standardize", str(standardize)}};
        for (String[] option : gaussOnly) {
            if (option[1] != null) {
                throw new IllegalArgumentException(option[0] + " applies to --dataset gauss-k only, not " + dataset);
            }
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("--dataset " + dataset + " needs --data-dir DIR, the folder of its files");
        }
        if (samples != null && samples < 1) {
            throw new IllegalArgumentException("samples must be >= 1, got " + samples);
        }
        if (testSamples != null && testSamples < 1) {
            throw new IllegalArgumentException("test samples must be >= 1, got " + testSamples);
        }
        return new DatasetSettings(dataset, null, dataDir, samples != null ? samples : 0, testSet,
                testSamples != null ? testSamples : 0);
    }

    /** --layers, --model (which must agree when both are given and fit the dataset), or the dataset's default net. */
    private List<Integer> layers(DatasetSettings data) {
        if (model == null) {
            return layers != null ? layers : defaultLayers(data);
        }
        ModelPreset preset = ModelPreset.fromId(model);
        if (layers != null && !layers.equals(preset.architecture().layers())) {
            throw new IllegalArgumentException("--model " + model + " is " + preset.architecture().layers()
                    + " but --layers gives " + layers + ": give one of them");
        }
        preset.requireFits(data.name(), data.inputDimension(), data.classes());
        return preset.architecture().layers();
    }

    /** The ensemble engine: the only one {@code sgdscope train} has since the per-run engine was retired (issue 15). */
    private Engine engine() {
        if (Engine.PER_RUN.id().equals(engine)) {
            throw new IllegalArgumentException("--engine per-run was retired: sgdscope has one engine, ensemble (a block "
                    + "of one run gives the per-run engine's records); drop --engine");
        }
        if (!Engine.ENSEMBLE.id().equals(engine)) {
            throw new IllegalArgumentException("unknown engine '" + engine + "': the only engine is ensemble");
        }
        return Engine.ENSEMBLE;
    }

    private CurvatureSettings curvature() {
        boolean generated = GAUSS_K.equals(dataset);
        int moments = momentsEvery != null ? momentsEvery : generated ? CurvatureSettings.DEFAULT_MOMENTS_EVERY : 0;
        int spectrum = spectrumEvery != null ? spectrumEvery : generated ? CurvatureSettings.DEFAULT_SPECTRUM_EVERY : 0;
        return new CurvatureSettings(moments, spectrum, topK, fullSpectrum, snapshotAt, snapshotDir, priorSigma, boundDelta);
    }

    private int defaultBatchSize() {
        return switch (dataset) {
            case DatasetSettings.MNIST -> 64;
            case DatasetSettings.CIFAR10 -> 256;
            default -> 5;
        };
    }

    private static List<Integer> defaultLayers(DatasetSettings data) {
        return switch (data.name()) {
            case DatasetSettings.MNIST -> ModelPreset.MNIST_MLP3.architecture().layers();
            case DatasetSettings.CIFAR10 -> ModelPreset.CIFAR_MLP3.architecture().layers();
            default -> List.of(data.inputDimension(), 10, 30, data.classes());
        };
    }

    private static String defaultExperimentId(DatasetSettings data) {
        String prefix = data.gaussK() != null ? "gauss" + data.classes() : data.name();
        return prefix + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    private static String str(Object value) {
        return value == null ? null : value.toString();
    }
}
