package io.sgdscope.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetSettingsTest {

    private static final GaussKSettings RAW_GAUSS_10 = GaussKSettings.GAUSS_10.withStandardize(false);

    @TempDir
    Path dir;

    @Test
    void gaussKDrawsItsTestSetFromTheTrainingSetsBlobsWithCleanLabels() {
        GaussKSettings noisy = RAW_GAUSS_10.withRandomLabelFraction(0.5);
        Splits splits = DatasetSettings.gaussK(noisy).withTestSamples(300).load();
        Dataset test = splits.test().orElseThrow();
        assertEquals(300, test.samples());
        double[][] centres = GaussK.blobs(noisy).centres();
        double[][] x = test.features().toDoubleMatrix();
        int[] perClass = new int[10];
        for (int i = 0; i < x.length; i++) {
            // Centres ~57 apart in 50 dimensions, unit-variance noise ~7: the nearest centre is the true class.
            assertEquals(nearest(centres, x[i]), test.labels()[i], "test sample " + i + " has its blob's label");
            perClass[test.labels()[i]]++;
        }
        assertArrayEquals(new int[] {30, 30, 30, 30, 30, 30, 30, 30, 30, 30}, perClass);
        double[][] train = splits.train().features().toDoubleMatrix();
        for (double[] row : x) {
            for (double[] trainRow : train) {
                assertFalse(Arrays.equals(row, trainRow), "a test sample repeats a training sample");
            }
        }
    }

    @Test
    void theTrainingSetDoesNotDependOnWhetherThereIsATestSet() {
        Dataset with = DatasetSettings.gaussK(GaussKSettings.GAUSS_10).load().train();
        Dataset without = DatasetSettings.gaussK(GaussKSettings.GAUSS_10).withTestSet(false).load().train();
        Dataset generated = GaussK.generate(GaussKSettings.GAUSS_10);
        assertArrayEquals(generated.features().ravel().toDoubleVector(), with.features().ravel().toDoubleVector(), 0.0);
        assertArrayEquals(generated.features().ravel().toDoubleVector(), without.features().ravel().toDoubleVector(), 0.0);
        assertArrayEquals(generated.labels(), with.labels());
        assertTrue(DatasetSettings.gaussK(GaussKSettings.GAUSS_10).withTestSet(false).load().test().isEmpty());
        assertEquals(100, DatasetSettings.gaussK(GaussKSettings.GAUSS_10).load().test().orElseThrow().samples(),
                "as many test samples as training samples by default");
    }

    @Test
    void aStandardisedTestSetUsesTheTrainingSetsMeansAndDeviations() {
        Splits raw = DatasetSettings.gaussK(RAW_GAUSS_10).load();
        Splits standardised = DatasetSettings.gaussK(GaussKSettings.GAUSS_10).load();
        double[][] train = raw.train().features().toDoubleMatrix();
        double[][] test = raw.test().orElseThrow().features().toDoubleMatrix();
        double[][] expected = standardised.test().orElseThrow().features().toDoubleMatrix();
        for (int j = 0; j < 50; j++) {
            double mean = 0;
            for (double[] row : train) {
                mean += row[j] / train.length;
            }
            double variance = 0;
            for (double[] row : train) {
                variance += (row[j] - mean) * (row[j] - mean) / train.length;
            }
            for (int i = 0; i < test.length; i++) {
                assertEquals((test[i][j] - mean) / Math.sqrt(variance), expected[i][j], 1e-12, "test [" + i + ", " + j + "]");
            }
        }
        assertArrayEquals(raw.test().orElseThrow().labels(), standardised.test().orElseThrow().labels());
    }

    @Test
    void mnistLoadsTheLimitedTrainingAndTestImages() throws IOException {
        SmallDatasetFiles.writeMnist(dir, 30, 12, 3);
        Splits splits = DatasetSettings.mnist(dir).withTrainLimit(20).withTestSamples(5).load();
        assertEquals(20, splits.train().samples());
        assertEquals(5, splits.test().orElseThrow().samples());
        assertEquals("mnist", splits.train().description().name());
        assertEquals(dir.toAbsolutePath().toString(), splits.train().description().source());
        assertEquals(20, DatasetSettings.mnist(dir).withTrainLimit(20).samples().getAsInt());
        assertTrue(DatasetSettings.mnist(dir).samples().isEmpty(), "all of the file: n is known once read");
    }

    @Test
    void withTheTestSetOnMissingTestFilesAreNamedAndWithItOffTheyAreNotNeeded() throws IOException {
        SmallDatasetFiles.writeMnist(dir, 30, 12, 3);
        Files.delete(dir.resolve(Mnist.TEST_IMAGES));
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetSettings.mnist(dir).checkFiles());
        assertTrue(e.getMessage().startsWith("MNIST files missing in " + dir.toAbsolutePath() + ": t10k-images-idx3-ubyte "
                + "(plain or .gz;"), e.getMessage());
        Splits splits = DatasetSettings.mnist(dir).withTestSet(false).load();
        assertEquals(30, splits.train().samples());
        assertTrue(splits.test().isEmpty());
    }

    @Test
    void aMissingFolderIsSaidSoAndEveryCifarFileIsNamed() {
        Path nowhere = dir.resolve("cifar-10-batches-bin");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetSettings.cifar10(nowhere).load());
        assertEquals("CIFAR-10 files missing in " + nowhere.toAbsolutePath() + " (no such folder): data_batch_1.bin, "
                + "data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin (plain or .gz; "
                + "put the files of the CIFAR-10 binary version there (cifar-10-binary.tar.gz, folder cifar-10-batches-bin): "
                + "data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin)",
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void cifarKnowsItsShapeBeforeReadingAnything() throws IOException {
        DatasetSettings cifar = DatasetSettings.cifar10(dir);
        assertEquals(3072, cifar.inputDimension());
        assertEquals(10, cifar.classes());
        SmallDatasetFiles.writeCifar10(dir, 4, 8);
        Splits splits = cifar.load();
        assertEquals(20, splits.train().samples());
        assertEquals(4, splits.test().orElseThrow().samples());
        assertEquals("cifar10", splits.train().description().name());
    }

    @Test
    void invalidCombinationsAreRejectedWithOneLineNamingThem() {
        assertEquals("unknown dataset 'imagenet' (known: gauss-k, mnist, cifar10)", assertThrows(IllegalArgumentException.class,
                () -> new DatasetSettings("imagenet", null, dir, 0, true, 0)).getMessage());
        assertEquals("mnist needs a data folder with its files (--data-dir)", assertThrows(IllegalArgumentException.class,
                () -> new DatasetSettings("mnist", null, null, 0, true, 0)).getMessage());
        assertEquals("gauss-k is generated, it reads no data folder (got " + dir + ")",
                assertThrows(IllegalArgumentException.class,
                        () -> new DatasetSettings("gauss-k", GaussKSettings.GAUSS_10, dir, 0, true, 0)).getMessage());
        assertEquals("the number of test samples must be >= 1 (or 0 for the default), got -1",
                assertThrows(IllegalArgumentException.class,
                        () -> DatasetSettings.gaussK(GaussKSettings.GAUSS_10).withTestSamples(-1)).getMessage());
    }

    private static int nearest(double[][] centres, double[] x) {
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int c = 0; c < centres.length; c++) {
            double distance = 0;
            for (int j = 0; j < x.length; j++) {
                distance += (x[j] - centres[c][j]) * (x[j] - centres[c][j]);
            }
            if (distance < bestDistance) {
                bestDistance = distance;
                best = c;
            }
        }
        return best;
    }
}
