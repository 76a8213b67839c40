package io.sgdscope.trainer.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MNIST (Sec. A.2) from the standard IDX files: 28 x 28 grey images flattened to 784 features,
 * scaled to [0, 1], then normalised by subtracting the mean and dividing by the standard deviation
 * of the training set's pixels (one scalar each, as the paper describes), labels 0-9. Float64.
 */
public final class Mnist {

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    public static final int PIXELS = 28 * 28;
    public static final int CLASSES = 10;

    static final String HOW_TO_GET = "put the four standard MNIST IDX files there, e.g. from the MNIST database's "
            + "download page: " + TRAIN_IMAGES + ", " + TRAIN_LABELS + ", " + TEST_IMAGES + ", " + TEST_LABELS;

    private Mnist() {}

    /** The files a load needs: the training images and labels, and the test ones when the test set is wanted. */
    static List<String> requiredFiles(boolean withTestSet) {
        return withTestSet ? List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS) : List.of(TRAIN_IMAGES, TRAIN_LABELS);
    }

    /**
     * Loads the training set (required) and the test set (when its two files are there).
     *
     * @param trainLimit the first this many training images, or 0 for all (the statistics always use all)
     * @param testLimit  the first this many test images, or 0 for all
     * @throws DatasetException naming the missing or damaged files
     */
    public static Splits load(Path dir, int trainLimit, int testLimit) {
        List<Path> trainFiles = DataFiles.require(dir, "MNIST", List.of(TRAIN_IMAGES, TRAIN_LABELS), HOW_TO_GET);
        Idx.UnsignedBytes trainImages = images(trainFiles.get(0));
        int[] trainLabels = labels(trainFiles.get(1), trainImages.count());
        PixelStatistics stats = PixelStatistics.of(trainImages.data(), PIXELS, 0, PIXELS, 1.0 / 255);

        Dataset train = dataset(dir, trainImages, trainLabels, stats, trainLimit);
        Optional<Dataset> test = Optional.empty();
        Optional<Path> testImagesFile = DataFiles.find(dir, TEST_IMAGES);
        Optional<Path> testLabelsFile = DataFiles.find(dir, TEST_LABELS);
        if (testImagesFile.isPresent() && testLabelsFile.isPresent()) {
            Idx.UnsignedBytes testImages = images(testImagesFile.get());
            test = Optional.of(dataset(dir, testImages, labels(testLabelsFile.get(), testImages.count()), stats, testLimit));
        }
        return new Splits(train, test);
    }

    private static Idx.UnsignedBytes images(Path file) {
        Idx.UnsignedBytes images = Idx.read(file, 3);
        if (images.itemSize() != PIXELS) {
            throw new DatasetException(file.getFileName() + " holds images of " + images.dimensions()[1] + " x "
                    + images.dimensions()[2] + " pixels, MNIST's are 28 x 28");
        }
        return images;
    }

    private static int[] labels(Path file, int expectedCount) {
        Idx.UnsignedBytes raw = Idx.read(file, 1);
        if (raw.count() != expectedCount) {
            throw new DatasetException(file.getFileName() + " has " + raw.count() + " labels for " + expectedCount + " images");
        }
        int[] labels = new int[raw.count()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = raw.data()[i] & 0xff;
            if (labels[i] >= CLASSES) {
                throw new DatasetException(file.getFileName() + ": label " + labels[i] + " of image " + i + " is not a digit 0-9");
            }
        }
        return labels;
    }

    private static Dataset dataset(Path dir, Idx.UnsignedBytes images, int[] allLabels, PixelStatistics stats, int limit) {
        int n = limit > 0 ? Math.min(limit, images.count()) : images.count();
        double[] features = new double[n * PIXELS];
        byte[] pixels = images.data();
        for (int i = 0; i < features.length; i++) {
            features[i] = stats.normalise((pixels[i] & 0xff) / 255.0);
        }
        INDArray matrix = Nd4j.create(features, new long[] {n, PIXELS}, DataType.DOUBLE);
        int[] labels = java.util.Arrays.copyOf(allLabels, n);
        return new Dataset(new DatasetDescription("mnist", n, PIXELS, CLASSES, 0.0, true, 0L, dir.toAbsolutePath().toString()),
                matrix, labels);
    }
}
