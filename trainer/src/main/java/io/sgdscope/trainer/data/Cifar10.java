package io.sgdscope.trainer.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * CIFAR-10 (Sec. A.2) from the standard binary version: each record is 1 label byte and 3072 pixel
 * bytes (1024 red, 1024 green, 1024 blue, each 32 x 32 row-major). Pixels are scaled to [0, 1], then
 * normalised per colour channel with the training set's mean and standard deviation, and kept in the
 * file's order as 3072 features. Float64.
 */
public final class Cifar10 {

    public static final List<String> TRAIN_BATCHES = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin");
    public static final String TEST_BATCH = "test_batch.bin";
    public static final int CHANNEL = 32 * 32;
    public static final int PIXELS = 3 * CHANNEL;
    public static final int RECORD = 1 + PIXELS;
    public static final int CLASSES = 10;

    static final String HOW_TO_GET = "put the files of the CIFAR-10 binary version there (cifar-10-binary.tar.gz, "
            + "folder cifar-10-batches-bin): " + String.join(", ", TRAIN_BATCHES) + ", " + TEST_BATCH;

    /** Records of one or more batch files: labels and pixels, record i's pixels at [i * PIXELS, (i + 1) * PIXELS). */
    private record Records(int[] labels, byte[] pixels) {}

    private Cifar10() {}

    /** The files a load needs: the five training batches, and the test batch when the test set is wanted. */
    static List<String> requiredFiles(boolean withTestSet) {
        List<String> files = new ArrayList<>(TRAIN_BATCHES);
        if (withTestSet) {
            files.add(TEST_BATCH);
        }
        return files;
    }

    /**
     * Loads the five training batches (required) and the test batch (when present).
     *
     * @param trainLimit the first this many training images, or 0 for all (the statistics always use all)
     * @param testLimit  the first this many test images, or 0 for all
     * @throws DatasetException naming the missing or damaged files
     */
    public static Splits load(Path dir, int trainLimit, int testLimit) {
        Records train = read(DataFiles.require(dir, "CIFAR-10", TRAIN_BATCHES, HOW_TO_GET));
        PixelStatistics[] channels = new PixelStatistics[3];
        for (int c = 0; c < 3; c++) {
            channels[c] = PixelStatistics.of(train.pixels(), PIXELS, c * CHANNEL, CHANNEL, 1.0 / 255);
        }
        Dataset trainSet = dataset(dir, train, channels, trainLimit);
        Optional<Dataset> test = DataFiles.find(dir, TEST_BATCH).map(file -> dataset(dir, read(List.of(file)), channels, testLimit));
        return new Splits(trainSet, test);
    }

    private static Records read(List<Path> files) {
        List<int[]> labelParts = new ArrayList<>();
        List<byte[]> pixelParts = new ArrayList<>();
        int total = 0;
        for (Path file : files) {
            long size = size(file);
            try (DataInputStream in = DataFiles.open(file)) {
                byte[] bytes = in.readAllBytes();
                if (bytes.length == 0 || bytes.length % RECORD != 0) {
                    throw new DatasetException(file.getFileName() + " is truncated or not a CIFAR-10 binary batch: " + bytes.length
                            + " bytes is not a whole number of " + RECORD + "-byte records");
                }
                int count = bytes.length / RECORD;
                int[] labels = new int[count];
                byte[] pixels = new byte[count * PIXELS];
                for (int i = 0; i < count; i++) {
                    labels[i] = bytes[i * RECORD] & 0xff;
                    if (labels[i] >= CLASSES) {
                        throw new DatasetException(file.getFileName() + ": record " + i + " has label " + labels[i]
                                + ", CIFAR-10's are 0-9 (is this the CIFAR-100 or the python version?)");
                    }
                    System.arraycopy(bytes, i * RECORD + 1, pixels, i * PIXELS, PIXELS);
                }
                labelParts.add(labels);
                pixelParts.add(pixels);
                total += count;
            } catch (IOException e) {
                throw new DatasetException("cannot read " + file + " (" + size + " bytes): " + e.getMessage(), e);
            }
        }
        int[] labels = new int[total];
        byte[] pixels = new byte[total * PIXELS];
        int at = 0;
        for (int part = 0; part < labelParts.size(); part++) {
            int[] l = labelParts.get(part);
            System.arraycopy(l, 0, labels, at, l.length);
            System.arraycopy(pixelParts.get(part), 0, pixels, at * PIXELS, l.length * PIXELS);
            at += l.length;
        }
        return new Records(labels, pixels);
    }

    private static Dataset dataset(Path dir, Records records, PixelStatistics[] channels, int limit) {
        int count = records.labels().length;
        int n = limit > 0 ? Math.min(limit, count) : count;
        double[] features = new double[n * PIXELS];
        byte[] pixels = records.pixels();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < PIXELS; j++) {
                int at = i * PIXELS + j;
                features[at] = channels[j / CHANNEL].normalise((pixels[at] & 0xff) / 255.0);
            }
        }
        INDArray matrix = Nd4j.create(features, new long[] {n, PIXELS}, DataType.DOUBLE);
        return new Dataset(new DatasetDescription("cifar10", n, PIXELS, CLASSES, 0.0, true, 0L, dir.toAbsolutePath().toString()),
                matrix, Arrays.copyOf(records.labels(), n));
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }
}
