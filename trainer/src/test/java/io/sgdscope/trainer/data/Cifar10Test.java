package io.sgdscope.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10Test {

    private static final int PER_BATCH = 6;

    @TempDir
    Path dir;

    private final Random random = new Random(11);
    /** Five training batches and a test batch in the binary format: label byte + 3072 pixel bytes per record. */
    private final byte[][] batches = new byte[6][];

    @Test
    void pixelsAreScaledAndNormalisedPerChannelWithTheTrainingSetsStatistics() throws IOException {
        writeAll();
        Splits splits = Cifar10.load(dir, 0, 0);
        Dataset train = splits.train();
        assertEquals(5 * PER_BATCH, train.samples());
        assertEquals(3072, train.inputDimension());

        for (int channel = 0; channel < 3; channel++) {
            // Reference: every training pixel of this channel, in [0, 1].
            double[] values = new double[5 * PER_BATCH * 1024];
            int k = 0;
            for (int b = 0; b < 5; b++) {
                for (int r = 0; r < PER_BATCH; r++) {
                    for (int j = 0; j < 1024; j++) {
                        values[k++] = (batches[b][r * 3073 + 1 + channel * 1024 + j] & 0xff) / 255.0;
                    }
                }
            }
            double mean = Arrays.stream(values).average().orElseThrow();
            double std = Math.sqrt(Arrays.stream(values).map(x -> (x - mean) * (x - mean)).sum() / values.length);
            // Image 8 is record 2 of the second batch; feature channel * 1024 + 77.
            int pixel = batches[1][2 * 3073 + 1 + channel * 1024 + 77] & 0xff;
            assertEquals((pixel / 255.0 - mean) / std, train.features().getDouble(8, channel * 1024 + 77), 1e-12);
            int testPixel = batches[5][3 * 3073 + 1 + channel * 1024 + 5] & 0xff;
            assertEquals((testPixel / 255.0 - mean) / std, splits.test().orElseThrow().features().getDouble(3, channel * 1024 + 5),
                    1e-12, "the test batch uses the training statistics");
        }
        assertEquals(batches[1][2 * 3073], train.labels()[8]);
        assertEquals(batches[4][5 * 3073], train.labels()[29]);
    }

    @Test
    void aTruncatedBatchIsAClearError() throws IOException {
        writeAll();
        Files.write(dir.resolve("data_batch_3.bin"), Arrays.copyOf(batches[2], batches[2].length - 10));
        DatasetException e = assertThrows(DatasetException.class, () -> Cifar10.load(dir, 0, 0));
        assertEquals("data_batch_3.bin is truncated or not a CIFAR-10 binary batch: 18428 bytes is not a whole number of "
                + "3073-byte records", e.getMessage());
    }

    @Test
    void missingBatchesAreNamed() throws IOException {
        writeAll();
        Files.delete(dir.resolve("data_batch_2.bin"));
        Files.delete(dir.resolve("data_batch_5.bin"));
        DatasetException e = assertThrows(DatasetException.class, () -> Cifar10.load(dir, 0, 0));
        assertTrue(e.getMessage().startsWith("CIFAR-10 files missing in " + dir.toAbsolutePath()
                + ": data_batch_2.bin, data_batch_5.bin (plain or .gz; put the files of the CIFAR-10 binary version there"),
                e.getMessage());
    }

    @Test
    void aLabelOutsideTenClassesIsRejected() throws IOException {
        writeAll();
        batches[0][3073] = (byte) 57;
        Files.write(dir.resolve("data_batch_1.bin"), batches[0]);
        DatasetException e = assertThrows(DatasetException.class, () -> Cifar10.load(dir, 0, 0));
        assertTrue(e.getMessage().startsWith("data_batch_1.bin: record 1 has label 57"), e.getMessage());
    }

    private void writeAll() throws IOException {
        for (int b = 0; b < 6; b++) {
            byte[] batch = new byte[PER_BATCH * 3073];
            random.nextBytes(batch);
            for (int r = 0; r < PER_BATCH; r++) {
                batch[r * 3073] = (byte) random.nextInt(10);
            }
            batches[b] = batch;
            Files.write(dir.resolve(b < 5 ? Cifar10.TRAIN_BATCHES.get(b) : Cifar10.TEST_BATCH), batch);
        }
    }
}
