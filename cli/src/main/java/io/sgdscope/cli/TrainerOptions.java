package io.sgdscope.cli;

import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Precision;
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

    /** @throws IllegalArgumentException with one line naming the bad setting */
    TrainerSettings toSettings() {
        if (!GAUSS_K.equals(dataset)) {
            throw new IllegalArgumentException("unknown dataset '" + dataset + "' (known: " + GAUSS_K + ")");
        }
        GaussKSettings data = new GaussKSettings(samples, inputDimension, classes, randomLabelFraction, dataSeed, standardize);
        List<Integer> widths = layers != null ? layers : defaultLayers();
        return new TrainerSettings(experimentId != null ? experimentId : defaultExperimentId(), runs, iterations, seed,
                learningRate, batchSize, data, widths, Initialization.fromId(initialization), Precision.fromId(precision),
                workers != null ? workers : Runtime.getRuntime().availableProcessors());
    }

    private List<Integer> defaultLayers() {
        return List.of(inputDimension, 10, 30, classes);
    }

    private String defaultExperimentId() {
        return "gauss" + classes + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
}
