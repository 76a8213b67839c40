package io.sgdscope.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GaussKTest {

    private static final GaussKSettings RAW_GAUSS_10 = GaussKSettings.GAUSS_10.withStandardize(false);

    @Test
    void everyClassHasNOverKSamplesAndTheFirstNModKClassesOneMore() {
        assertArrayEquals(new int[] {10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
                classSizes(GaussK.blobs(RAW_GAUSS_10).cleanLabels(), 10));
        GaussKSettings uneven = new GaussKSettings(103, 5, 10, 0.0, 3L, false);
        assertArrayEquals(new int[] {11, 11, 11, 10, 10, 10, 10, 10, 10, 10},
                classSizes(GaussK.blobs(uneven).cleanLabels(), 10));
    }

    @Test
    void centresAreUniformInTheBoxMinusTenToTen() {
        GaussKSettings settings = new GaussKSettings(100, 50, 40, 0.0, 5L, false);
        double[][] centres = GaussK.blobs(settings).centres();
        assertEquals(40, centres.length);
        double sum = 0;
        double sumSquares = 0;
        int count = 0;
        for (double[] centre : centres) {
            assertEquals(50, centre.length);
            for (double c : centre) {
                assertTrue(c >= -10 && c <= 10, "centre coordinate " + c + " outside [-10, 10]");
                sum += c;
                sumSquares += c * c;
                count++;
            }
        }
        // U(-10, 10): mean 0, variance 100/3. Over 2000 coordinates the sample mean has sd
        // sqrt(100/3 / 2000) = 0.13 and the mean square sd sqrt((10^4/5 - (100/3)^2) / 2000) = 0.67:
        // tolerances of about 5 sd.
        assertEquals(0.0, sum / count, 0.65);
        assertEquals(100.0 / 3, sumSquares / count, 3.5);
    }

    @Test
    void rawSamplesAreUnitVarianceBlobsAroundTheirCentres() {
        GaussKSettings large = new GaussKSettings(10_000, 50, 10, 0.0, 9L, false);
        GaussK.Blobs blobs = GaussK.blobs(large);
        int d = 50;
        int k = 10;
        // Per class and feature: 1000 samples of N(c, 1). The sample variance then has sd
        // sqrt(2 / 999) = 0.045 and the sample mean sd 1 / sqrt(1000) = 0.032. With tolerances of
        // 0.25 (5.6 sd) and 0.18 (5.7 sd) a false failure among the 500 (class, feature) pairs has
        // probability below 1e-5.
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                double sum = 0;
                double sumSquares = 0;
                int count = 0;
                for (int i = 0; i < blobs.features().length; i++) {
                    if (blobs.cleanLabels()[i] == c) {
                        double deviation = blobs.features()[i][j] - blobs.centres()[c][j];
                        sum += deviation;
                        sumSquares += deviation * deviation;
                        count++;
                    }
                }
                double mean = sum / count;
                double variance = (sumSquares - count * mean * mean) / (count - 1);
                assertEquals(0.0, mean, 0.18, "class " + c + " feature " + j + ": mean offset from the centre");
                assertEquals(1.0, variance, 0.25, "class " + c + " feature " + j + ": within-class variance");
            }
        }
    }

    @Test
    void randomLabelFractionReplacesExactlyFloorOfRNOverKLabelsInEachClass() {
        GaussKSettings noisy = RAW_GAUSS_10.withRandomLabelFraction(0.35);      // floor(0.35 * 100 / 10) = 3
        assertEquals(3, noisy.randomLabelsPerClass());
        GaussK.Blobs clean = GaussK.blobs(RAW_GAUSS_10);
        GaussK.Blobs corrupted = GaussK.blobs(noisy);

        // Label noise must leave the draw itself alone: same features, same clean labels.
        assertArrayEquals(clean.features(), corrupted.features());
        assertArrayEquals(clean.cleanLabels(), corrupted.cleanLabels());
        assertArrayEquals(clean.cleanLabels(), clean.labels());

        int[] replacedPerClass = new int[10];
        for (int i = 0; i < 100; i++) {
            if (corrupted.replaced()[i]) {
                replacedPerClass[corrupted.cleanLabels()[i]]++;
            } else {
                assertEquals(clean.labels()[i], corrupted.labels()[i], "sample " + i + " was not picked but changed");
            }
        }
        assertArrayEquals(new int[] {3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, replacedPerClass);

        // The same through generate(): features identical to the clean dataset's, labels the noisy ones.
        Dataset cleanData = GaussK.generate(RAW_GAUSS_10);
        Dataset noisyData = GaussK.generate(noisy);
        assertArrayEquals(cleanData.features().toDoubleMatrix(), noisyData.features().toDoubleMatrix());
        assertArrayEquals(corrupted.labels(), noisyData.labels());
        assertEquals(0.35, noisyData.description().randomLabelFraction());
    }

    @Test
    void replacementLabelsAreUniformOverTheKClasses() {
        // r = 1 on 20,000 samples, k = 4: every label is redrawn uniformly. Each class count is
        // Binomial(20000, 1/4): sd 61, tolerance 400 (6.5 sd); a kept label has probability 1/4.
        GaussKSettings allRandom = new GaussKSettings(20_000, 2, 4, 1.0, 17L, false);
        GaussK.Blobs blobs = GaussK.blobs(allRandom);
        int[] counts = classSizes(blobs.labels(), 4);
        for (int c = 0; c < 4; c++) {
            assertEquals(5000, counts[c], 400, "class " + c);
        }
        int unchanged = 0;
        for (int i = 0; i < blobs.labels().length; i++) {
            assertTrue(blobs.replaced()[i]);
            if (blobs.labels()[i] == blobs.cleanLabels()[i]) {
                unchanged++;
            }
        }
        assertEquals(5000, unchanged, 400);
    }

    @Test
    void standardisedFeaturesHaveMeanZeroAndStandardDeviationOnePerFeature() {
        Dataset data = GaussK.generate(GaussKSettings.GAUSS_10);
        assertTrue(data.description().standardized());
        double[][] x = data.features().toDoubleMatrix();
        for (int j = 0; j < 50; j++) {
            double sum = 0;
            for (double[] row : x) {
                sum += row[j];
            }
            double mean = sum / x.length;
            double squares = 0;
            for (double[] row : x) {
                squares += (row[j] - mean) * (row[j] - mean);
            }
            assertEquals(0.0, mean, 1e-12, "feature " + j);
            assertEquals(1.0, Math.sqrt(squares / x.length), 1e-12, "feature " + j);
        }
        // Standardising is an affine map per feature: the raw data of the same seed, standardised by hand.
        double[][] raw = GaussK.blobs(GaussKSettings.GAUSS_10).features();
        double mean0 = 0;
        for (double[] row : raw) {
            mean0 += row[0] / raw.length;
        }
        double var0 = 0;
        for (double[] row : raw) {
            var0 += (row[0] - mean0) * (row[0] - mean0) / raw.length;
        }
        assertEquals((raw[7][0] - mean0) / Math.sqrt(var0), x[7][0], 1e-12);
    }

    @Test
    void sameSeedGivesTheSameDataAndAnotherSeedOtherData() {
        Dataset a = GaussK.generate(GaussKSettings.GAUSS_10);
        Dataset b = GaussK.generate(GaussKSettings.GAUSS_10);
        Dataset c = GaussK.generate(GaussKSettings.GAUSS_10.withSeed(2));
        assertArrayEquals(a.features().toDoubleMatrix(), b.features().toDoubleMatrix());
        assertArrayEquals(a.labels(), b.labels());
        assertFalse(a.features().equals(c.features()));
        assertEquals(100, a.samples());
        assertEquals(50, a.inputDimension());
        assertEquals(10, a.classes());
        assertEquals("gauss-k", a.description().name());
    }

    @Test
    void samplesAreShuffledNotGroupedByClass() {
        int[] labels = GaussK.blobs(RAW_GAUSS_10).cleanLabels();
        int changes = 0;
        for (int i = 1; i < labels.length; i++) {
            if (labels[i] != labels[i - 1]) {
                changes++;
            }
        }
        // Grouped by class there would be 9 changes; shuffled, about 90.
        assertTrue(changes > 60, "only " + changes + " label changes between neighbours");
    }

    private static int[] classSizes(int[] labels, int k) {
        int[] sizes = new int[k];
        for (int y : labels) {
            sizes[y]++;
        }
        return sizes;
    }
}
