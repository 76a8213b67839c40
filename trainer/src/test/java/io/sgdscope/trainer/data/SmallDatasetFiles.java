package io.sgdscope.trainer.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes small MNIST and CIFAR-10 files in their real formats (IDX; the binary batches) with random
 * pixels and labels, for tests elsewhere in the trainer. Nothing is downloaded.
 */
public final class SmallDatasetFiles {

    private SmallDatasetFiles() {}

    /** The four MNIST IDX files (plain) with {@code train} training and {@code test} test images. */
    public static void writeMnist(Path dir, int train, int test, long seed) throws IOException {
        Random random = new Random(seed);
        Files.createDirectories(dir);
        Files.write(dir.resolve(Mnist.TRAIN_IMAGES), images(random, train));
        Files.write(dir.resolve(Mnist.TRAIN_LABELS), labels(random, train));
        Files.write(dir.resolve(Mnist.TEST_IMAGES), images(random, test));
        Files.write(dir.resolve(Mnist.TEST_LABELS), labels(random, test));
    }

    /** The five CIFAR-10 training batches and the test batch, {@code perBatch} records each. */
    public static void writeCifar10(Path dir, int perBatch, long seed) throws IOException {
        Random random = new Random(seed);
        Files.createDirectories(dir);
        for (int b = 0; b < 6; b++) {
            byte[] batch = new byte[perBatch * Cifar10.RECORD];
            random.nextBytes(batch);
            for (int r = 0; r < perBatch; r++) {
                batch[r * Cifar10.RECORD] = (byte) random.nextInt(10);
            }
            Files.write(dir.resolve(b < 5 ? Cifar10.TRAIN_BATCHES.get(b) : Cifar10.TEST_BATCH), batch);
        }
    }

    private static byte[] images(Random random, int count) {
        byte[] pixels = new byte[count * Mnist.PIXELS];
        random.nextBytes(pixels);
        return ByteBuffer.allocate(16 + pixels.length).put(new byte[] {0, 0, 0x08, 3}).putInt(count).putInt(28).putInt(28)
                .put(pixels).array();
    }

    private static byte[] labels(Random random, int count) {
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) random.nextInt(10);
        }
        return ByteBuffer.allocate(8 + count).put(new byte[] {0, 0, 0x08, 1}).putInt(count).put(labels).array();
    }
}
