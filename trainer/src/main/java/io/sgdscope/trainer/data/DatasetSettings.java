package io.sgdscope.trainer.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Which training set the runs of an experiment share, and its held-out test set: Gauss-k generated
 * from a seed (Sec. A.1), or MNIST or CIFAR-10 read from their standard files (Sec. A.2). Validated
 * on construction with one-line messages naming the setting.
 *
 * @param name        {@value #GAUSS_K}, {@value #MNIST} or {@value #CIFAR10}
 * @param gaussK      how Gauss-k is generated; required for gauss-k, null otherwise
 * @param dataDir     the folder of the MNIST or CIFAR-10 files; required for those, null for gauss-k
 * @param trainLimit  MNIST / CIFAR-10: train on the first this many training images, 0 = all (the
 *                    normalisation statistics always use all); 0 for gauss-k (n is in {@code gaussK})
 * @param testSet     whether runs are evaluated on a held-out test set: Gauss-k draws one from the same
 *                    blobs, MNIST and CIFAR-10 use their test files (then required)
 * @param testSamples size of the test set: Gauss-k draws this many, 0 = as many as training samples;
 *                    MNIST / CIFAR-10 take their first this many test images, 0 = all
 */
public record DatasetSettings(String name, GaussKSettings gaussK, Path dataDir, int trainLimit, boolean testSet,
                              int testSamples) {

    public static final String GAUSS_K = GaussK.NAME;
    public static final String MNIST = "mnist";
    public static final String CIFAR10 = "cifar10";
    public static final List<String> NAMES = List.of(GAUSS_K, MNIST, CIFAR10);

    public DatasetSettings {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown dataset '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        }
        if (name.equals(GAUSS_K)) {
            if (gaussK == null) {
                throw new IllegalArgumentException("gauss-k needs its generator settings (n, d, k, r, seed)");
            }
            if (dataDir != null) {
                throw new IllegalArgumentException("gauss-k is generated, it reads no data folder (got " + dataDir + ")");
            }
            if (trainLimit != 0) {
                throw new IllegalArgumentException("gauss-k takes its number of samples from n, not a limit");
            }
        } else {
            if (gaussK != null) {
                throw new IllegalArgumentException(name + " is read from files: the Gauss-k generator settings do not apply");
            }
            if (dataDir == null) {
                throw new IllegalArgumentException(name + " needs a data folder with its files (--data-dir)");
            }
            if (trainLimit < 0) {
                throw new IllegalArgumentException("the number of training samples must be >= 1 (or 0 for all), got "
                        + trainLimit);
            }
        }
        if (testSamples < 0) {
            throw new IllegalArgumentException("the number of test samples must be >= 1 (or 0 for the default), got "
                    + testSamples);
        }
    }

    /** Gauss-k with these generator settings and a test set of n samples. */
    public static DatasetSettings gaussK(GaussKSettings settings) {
        return new DatasetSettings(GAUSS_K, settings, null, 0, true, 0);
    }

    /** MNIST from the IDX files in {@code dir}: all 60,000 training images, the 10,000 test images. */
    public static DatasetSettings mnist(Path dir) {
        return new DatasetSettings(MNIST, null, dir, 0, true, 0);
    }

    /** CIFAR-10 from the binary batches in {@code dir}: all 50,000 training images, the 10,000 test images. */
    public static DatasetSettings cifar10(Path dir) {
        return new DatasetSettings(CIFAR10, null, dir, 0, true, 0);
    }

    public DatasetSettings withTrainLimit(int limit) {
        return new DatasetSettings(name, gaussK, dataDir, limit, testSet, testSamples);
    }

    public DatasetSettings withTestSet(boolean on) {
        return new DatasetSettings(name, gaussK, dataDir, trainLimit, on, testSamples);
    }

    public DatasetSettings withTestSamples(int count) {
        return new DatasetSettings(name, gaussK, dataDir, trainLimit, testSet, count);
    }

    /** d, known before loading: Gauss-k's setting, 784 for MNIST, 3072 for CIFAR-10. */
    public int inputDimension() {
        return switch (name) {
            case MNIST -> Mnist.PIXELS;
            case CIFAR10 -> Cifar10.PIXELS;
            default -> gaussK.inputDimension();
        };
    }

    /** k, known before loading: Gauss-k's setting, 10 for MNIST and CIFAR-10. */
    public int classes() {
        return switch (name) {
            case MNIST -> Mnist.CLASSES;
            case CIFAR10 -> Cifar10.CLASSES;
            default -> gaussK.classes();
        };
    }

    /** n when it is known before loading (Gauss-k), or its upper bound (a training limit); empty for "all of a file". */
    public OptionalInt samples() {
        if (gaussK != null) {
            return OptionalInt.of(gaussK.samples());
        }
        return trainLimit > 0 ? OptionalInt.of(trainLimit) : OptionalInt.empty();
    }

    /**
     * Checks that the files this dataset needs are there (the training files; the test files too when
     * the test set is on), without reading them: a cheap check before anything else starts.
     *
     * @throws DatasetException naming every missing file, where it is expected and how to get it
     */
    public void checkFiles() {
        switch (name) {
            case MNIST -> DataFiles.require(dataDir, "MNIST", Mnist.requiredFiles(testSet), Mnist.HOW_TO_GET);
            case CIFAR10 -> DataFiles.require(dataDir, "CIFAR-10", Cifar10.requiredFiles(testSet), Cifar10.HOW_TO_GET);
            default -> { }
        }
    }

    /**
     * Generates or reads the data: the training set and, when the test set is on, the test set.
     *
     * @throws DatasetException when files are missing (all of them named), truncated or not in the format
     */
    public Splits load() {
        checkFiles();
        Splits splits = switch (name) {
            case MNIST -> Mnist.load(dataDir, trainLimit, testSamples);
            case CIFAR10 -> Cifar10.load(dataDir, trainLimit, testSamples);
            default -> GaussK.splits(gaussK, testSet ? (testSamples > 0 ? testSamples : gaussK.samples()) : 0);
        };
        return testSet ? splits : new Splits(splits.train(), java.util.Optional.empty());
    }

    /** These settings as name -> text, for {@code RunStarted.settings} (keys start with "dataset."). */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("dataset.name", name);
        if (gaussK != null) {
            map.put("dataset.samples", Integer.toString(gaussK.samples()));
            map.put("dataset.inputDimension", Integer.toString(gaussK.inputDimension()));
            map.put("dataset.classes", Integer.toString(gaussK.classes()));
            map.put("dataset.randomLabelFraction", Double.toString(gaussK.randomLabelFraction()));
            map.put("dataset.seed", Long.toString(gaussK.seed()));
            map.put("dataset.standardize", Boolean.toString(gaussK.standardize()));
        } else {
            map.put("dataset.dataDir", dataDir.toAbsolutePath().toString());
            map.put("dataset.trainLimit", Integer.toString(trainLimit));
        }
        map.put("dataset.testSet", Boolean.toString(testSet));
        map.put("dataset.testSamples", Integer.toString(testSamples));
        return map;
    }
}
