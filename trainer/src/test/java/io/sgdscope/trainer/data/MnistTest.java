package io.sgdscope.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistTest {

    private static final int TRAIN = 40;
    private static final int TEST = 12;

    @TempDir
    Path dir;

    private final Random random = new Random(5);
    private final byte[] trainPixels = randomPixels(TRAIN);
    private final byte[] trainLabels = randomLabels(TRAIN);
    private final byte[] testPixels = randomPixels(TEST);
    private final byte[] testLabels = randomLabels(TEST);

    @Test
    void imagesAreFlattenedScaledAndNormalisedWithTheTrainingSetsPixelStatistics() throws IOException {
        writeAll(false);
        Splits splits = Mnist.load(dir, 0, 0);

        // Reference: mean and population standard deviation of all training pixels in [0, 1].
        double[] scaled = new double[trainPixels.length];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = (trainPixels[i] & 0xff) / 255.0;
        }
        double mean = Arrays.stream(scaled).average().orElseThrow();
        double std = Math.sqrt(Arrays.stream(scaled).map(x -> (x - mean) * (x - mean)).sum() / scaled.length);

        Dataset train = splits.train();
        assertEquals(TRAIN, train.samples());
        assertEquals(784, train.inputDimension());
        assertEquals(10, train.classes());
        for (int i : new int[] {0, 17, TRAIN - 1}) {
            for (int j : new int[] {0, 300, 783}) {
                assertEquals(((trainPixels[i * 784 + j] & 0xff) / 255.0 - mean) / std, train.features().getDouble(i, j), 1e-12);
            }
            assertEquals(trainLabels[i], train.labels()[i]);
        }
        Dataset test = splits.test().orElseThrow();
        assertEquals(TEST, test.samples());
        assertEquals(((testPixels[5 * 784 + 100] & 0xff) / 255.0 - mean) / std, test.features().getDouble(5, 100), 1e-12,
                "the test set uses the training set's statistics");
        assertEquals(0.0, train.features().meanNumber().doubleValue(), 1e-9, "normalised training pixels have mean 0");
    }

    @Test
    void gzippedFilesReadTheSameAsPlainOnes() throws IOException {
        writeAll(false);
        Splits plain = Mnist.load(dir, 0, 0);
        Path gz = Files.createDirectory(dir.resolve("gz"));
        writeAll(true, gz);
        Splits zipped = Mnist.load(gz, 0, 0);
        assertEquals(plain.train().features(), zipped.train().features());
        assertArrayEquals(plain.train().labels(), zipped.train().labels());
    }

    @Test
    void aLimitTakesTheFirstImagesButTheStatisticsOfAll() throws IOException {
        writeAll(false);
        Splits all = Mnist.load(dir, 0, 0);
        Splits first = Mnist.load(dir, 10, 3);
        assertEquals(10, first.train().samples());
        assertEquals(3, first.test().orElseThrow().samples());
        assertEquals(all.train().features().getRow(9), first.train().features().getRow(9));
    }

    @Test
    void theTestSetIsOptional() throws IOException {
        write(dir.resolve(Mnist.TRAIN_IMAGES), images(trainPixels, TRAIN), false);
        write(dir.resolve(Mnist.TRAIN_LABELS), labels(trainLabels), false);
        assertTrue(Mnist.load(dir, 0, 0).test().isEmpty());
    }

    @Test
    void missingFilesAreNamedWithWhereToPutThem() {
        DatasetException e = assertThrows(DatasetException.class, () -> Mnist.load(dir, 0, 0));
        assertTrue(e.getMessage().startsWith("MNIST files missing in " + dir.toAbsolutePath() + ": train-images-idx3-ubyte, "
                + "train-labels-idx1-ubyte (plain or .gz; put the four standard MNIST IDX files there"), e.getMessage());
    }

    @Test
    void aTruncatedImageFileIsAClearError() throws IOException {
        writeAll(false);
        byte[] full = images(trainPixels, TRAIN);
        Files.write(dir.resolve(Mnist.TRAIN_IMAGES), Arrays.copyOf(full, full.length - 100));
        DatasetException e = assertThrows(DatasetException.class, () -> Mnist.load(dir, 0, 0));
        assertEquals("train-images-idx3-ubyte is truncated: it ends inside data of dimensions [40, 28, 28] (31360 bytes "
                + "expected there)", e.getMessage());
    }

    @Test
    void aFileOfAnotherFormatIsAClearError() throws IOException {
        writeAll(false);
        Files.writeString(dir.resolve(Mnist.TRAIN_LABELS), "not an idx file");
        DatasetException e = assertThrows(DatasetException.class, () -> Mnist.load(dir, 0, 0));
        assertTrue(e.getMessage().startsWith("train-labels-idx1-ubyte is not an IDX file of unsigned bytes with 1 dimensions"),
                e.getMessage());
    }

    @Test
    void labelsMustMatchTheImagesInNumber() throws IOException {
        writeAll(false);
        write(dir.resolve(Mnist.TRAIN_LABELS), labels(Arrays.copyOf(trainLabels, TRAIN - 1)), false);
        DatasetException e = assertThrows(DatasetException.class, () -> Mnist.load(dir, 0, 0));
        assertEquals("train-labels-idx1-ubyte has 39 labels for 40 images", e.getMessage());
    }

    private void writeAll(boolean gzip) throws IOException {
        writeAll(gzip, dir);
    }

    private void writeAll(boolean gzip, Path folder) throws IOException {
        String suffix = gzip ? ".gz" : "";
        write(folder.resolve(Mnist.TRAIN_IMAGES + suffix), images(trainPixels, TRAIN), gzip);
        write(folder.resolve(Mnist.TRAIN_LABELS + suffix), labels(trainLabels), gzip);
        write(folder.resolve(Mnist.TEST_IMAGES + suffix), images(testPixels, TEST), gzip);
        write(folder.resolve(Mnist.TEST_LABELS + suffix), labels(testLabels), gzip);
    }

    /** An IDX file of [count, 28, 28] unsigned bytes, as the MNIST database ships them. */
    static byte[] images(byte[] pixels, int count) {
        ByteBuffer buffer = ByteBuffer.allocate(16 + pixels.length);
        buffer.put(new byte[] {0, 0, 0x08, 3}).putInt(count).putInt(28).putInt(28).put(pixels);
        return buffer.array();
    }

    static byte[] labels(byte[] labels) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + labels.length);
        buffer.put(new byte[] {0, 0, 0x08, 1}).putInt(labels.length).put(labels);
        return buffer.array();
    }

    static void write(Path file, byte[] bytes, boolean gzip) throws IOException {
        if (!gzip) {
            Files.write(file, bytes);
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream zip = new GZIPOutputStream(out)) {
            zip.write(bytes);
        }
        Files.write(file, out.toByteArray());
    }

    private byte[] randomPixels(int count) {
        byte[] pixels = new byte[count * 784];
        random.nextBytes(pixels);
        return pixels;
    }

    private byte[] randomLabels(int count) {
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) random.nextInt(10);
        }
        return labels;
    }
}
