package io.sgdscope.cli;

import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Precision;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Every trainer setting as command-line options, shared by {@code train} and {@code demo}; turned into
 * {@link TrainerSettings} (which validates) in one place. Defaults are the paper's Gauss-10 experiment
 * (Table 2, Sec. A.1).
 */
final class TrainerOptions {

    static final String GAUSS_K = "gauss-k";

    @Option(names = "--experiment", paramLabel = "ID",
            description = "Experiment id that groups the runs (letters, digits, . _ -). Default: gauss<k>-<date>-<time>.")
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
            description = "Constant step size eta of SGD (Eq. 8), > 0. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--batch-size", paramLabel = "M", defaultValue = "5",
            description = "Minibatch size m, drawn with replacement, 1 <= m <= n. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--dataset", paramLabel = "NAME", defaultValue = GAUSS_K,
            description = "Training set: gauss-k (Gaussian blobs, Sec. A.1). Default: ${DEFAULT-VALUE}.")
    String dataset;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "100",
            description = "Gauss-k: training samples n. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--input-dim", paramLabel = "D", defaultValue = "50",
            description = "Gauss-k: input dimension d. Default: ${DEFAULT-VALUE}.")
    int inputDimension;

    @Option(names = "--classes", paramLabel = "K", defaultValue = "10",
            description = "Gauss-k: classes k (one blob each). Default: ${DEFAULT-VALUE}.")
    int classes;

    @Option(names = "--random-labels", paramLabel = "R", defaultValue = "0",
            description = "Gauss-k: fraction r of each class's labels replaced by uniformly drawn ones, in [0, 1]. Default: ${DEFAULT-VALUE}.")
    double randomLabelFraction;

    @Option(names = "--data-seed", paramLabel = "N", defaultValue = "1",
            description = "Gauss-k: seed of the data generator (all runs share the data). Default: ${DEFAULT-VALUE}.")
    long dataSeed;

    @Option(names = "--standardize", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Standardise each feature with the training set's mean and standard deviation "
                    + "(--no-standardize keeps raw blobs, on which most runs stall near chance loss). Default: on.")
    boolean standardize;

    @Option(names = "--layers", paramLabel = "W", split = ",",
            description = "Layer widths d,h1,...,k of the ReLU network. Default: d,10,30,k (Table 2: 50,10,30,10, p = 1150).")
    List<Integer> layers;

    @Option(names = "--init", paramLabel = "NAME", defaultValue = "he-normal",
            description = "Initialisation of theta_0: he-normal (weights N(0, 2/fan_in), biases 0) or standard-normal "
                    + "(N(0, I), Sec. A.1). Default: ${DEFAULT-VALUE}.")
    String initialization;

    @Option(names = "--precision", paramLabel = "NAME", defaultValue = "float64",
            description = "Floating-point precision of training: float64 or float32. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--workers", paramLabel = "N",
            description = "Threads training runs in parallel (results do not depend on it). Default: the number of cores.")
    Integer workers;

    @Option(names = "--moments-every", paramLabel = "N", defaultValue = "" + CurvatureSettings.DEFAULT_MOMENTS_EVERY,
            description = "Exact full-batch gradient moments (||mu||^2, Tr M, Tr/Frobenius/spectral norm of Sigma, "
                    + "||Sigma^1/2 mu||; Eq. 4-7, Thm 1) and L = max|eig(H_f)| into the iteration records at t = 0, N, 2N, ...; "
                    + "0 = never. Default: ${DEFAULT-VALUE}.")
    int momentsEvery;

    @Option(names = "--spectrum-every", paramLabel = "N", defaultValue = "" + CurvatureSettings.DEFAULT_SPECTRUM_EVERY,
            description = "A spectrum snapshot (top-k eigenpairs of H_f, M_t, H_p by Lanczos, principal angles, layer "
                    + "loadings, Davis-Kahan bounds, diag(H_f), Corollary 4 terms) to sgd.spectra at t = 0, N, 2N, ...; "
                    + "0 = never. Default: ${DEFAULT-VALUE}.")
    int spectrumEvery;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "" + CurvatureSettings.DEFAULT_TOP_K,
            description = "Eigenpairs per operator in spectrum snapshots (Fig. 2-4), 1..200. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--full-spectrum", defaultValue = "false",
            description = "Also publish all eigenvalues of the dense H_f and M_t in spectrum snapshots (Fig. 1); only for "
                    + "p <= 4096 parameters (ignored above). Costs about 1-2 s per snapshot for Gauss-10. Default: off.")
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

    /** @throws IllegalArgumentException with one line naming the bad setting */
    TrainerSettings toSettings() {
        if (!GAUSS_K.equals(dataset)) {
            throw new IllegalArgumentException("unknown dataset '" + dataset + "' (known: " + GAUSS_K + ")");
        }
        GaussKSettings data = new GaussKSettings(samples, inputDimension, classes, randomLabelFraction, dataSeed, standardize);
        List<Integer> widths = layers != null ? layers : defaultLayers();
        return new TrainerSettings(experimentId != null ? experimentId : defaultExperimentId(), runs, iterations, seed,
                learningRate, batchSize, data, widths, Initialization.fromId(initialization), Precision.fromId(precision),
                workers != null ? workers : Runtime.getRuntime().availableProcessors(), curvature());
    }

    private CurvatureSettings curvature() {
        return new CurvatureSettings(momentsEvery, spectrumEvery, topK, fullSpectrum, snapshotAt, snapshotDir, priorSigma,
                boundDelta);
    }

    private List<Integer> defaultLayers() {
        return List.of(inputDimension, 10, 30, classes);
    }

    private String defaultExperimentId() {
        return "gauss" + classes + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
}
