package io.sgdscope.trainer.data;

import java.util.SplittableRandom;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Gauss-k synthetic datasets of Sec. A.1, generated like scikit-learn's {@code make_blobs}
 * with its defaults: k centres drawn uniformly from [-10, 10]^d, isotropic unit-variance Gaussian
 * blobs N(c_j, I) around them, equal class sizes (n / k each; when k does not divide n the first
 * n mod k classes get one sample more), samples shuffled. Label noise as in Sec. A.1: in each class
 * exactly floor(r n / k) labels are replaced by labels drawn uniformly from the k classes (they may
 * land on the true class again); the features stay.
 *
 * <p>Deterministic for a seed. Centres, samples, shuffle and label noise draw from separate streams
 * split off the seed, so datasets that differ only in r have identical features and clean labels.
 */
public final class GaussK {

    /** Dataset name in provenance ({@code RunStarted.dataset.name}). */
    public static final String NAME = "gauss-k";

    /** Half-width of the box the centres are drawn from (make_blobs' {@code center_box=(-10, 10)}). */
    public static final double CENTRE_BOX = 10.0;

    private GaussK() {}

    /**
     * The raw draw, before standardisation.
     *
     * @param centres     [k][d] blob centres
     * @param features    [n][d] samples, row i drawn from N(centres[cleanLabels[i]], I)
     * @param cleanLabels the blob each sample was drawn from
     * @param labels      the labels after the random-label replacement (equal to cleanLabels when r = 0)
     * @param replaced    which samples had their label replaced by a random one (which may equal the clean label)
     */
    public record Blobs(double[][] centres, double[][] features, int[] cleanLabels, int[] labels, boolean[] replaced) {}

    /** Draws the blobs of Sec. A.1 for these settings (ignores {@code standardize}). */
    public static Blobs blobs(GaussKSettings settings) {
        int n = settings.samples();
        int d = settings.inputDimension();
        int k = settings.classes();
        SplittableRandom root = new SplittableRandom(settings.seed());
        SplittableRandom centreRandom = root.split();
        SplittableRandom sampleRandom = root.split();
        SplittableRandom shuffleRandom = root.split();
        SplittableRandom labelRandom = root.split();

        double[][] centres = new double[k][d];
        for (double[] centre : centres) {
            for (int j = 0; j < d; j++) {
                centre[j] = -CENTRE_BOX + 2 * CENTRE_BOX * centreRandom.nextDouble();
            }
        }

        double[][] features = new double[n][];
        int[] clean = new int[n];
        drawSamples(centres, sampleRandom, shuffleRandom, features, clean);

        int[] labels = clean.clone();
        boolean[] replaced = new boolean[n];
        randomizeLabels(clean, k, settings.randomLabelsPerClass(), labelRandom, labels, replaced);
        return new Blobs(centres, features, clean, labels, replaced);
    }

    /** The Gauss-k training set for these settings, standardised if they say so. */
    public static Dataset generate(GaussKSettings settings) {
        return splits(settings, 0).train();
    }

    /**
     * The training set and, when {@code testSamples > 0}, a held-out test set of that many samples drawn
     * from the same blobs (same centres, class sizes as in training, shuffled) with their clean labels:
     * the label noise of Sec. A.1 corrupts training only, so test accuracy measures how well the true
     * classes are learnt. The test features come from streams of their own, split off the seed after
     * the training set's, so the training set does not depend on whether there is a test set; when the
     * training set is standardised the test set is standardised with the training set's statistics.
     */
    public static Splits splits(GaussKSettings settings, int testSamples) {
        if (testSamples < 0) {
            throw new IllegalArgumentException("test samples must be >= 0, got " + testSamples);
        }
        Blobs blobs = blobs(settings);
        Standardization.Scaler scaler = settings.standardize() ? Standardization.fit(blobs.features()) : null;
        double[][] features = scaler != null ? scaler.apply(blobs.features()) : blobs.features();
        DatasetDescription description = new DatasetDescription(NAME, settings.samples(), settings.inputDimension(),
                settings.classes(), settings.randomLabelFraction(), settings.standardize(), settings.seed(), null);
        Dataset train = new Dataset(description, Nd4j.createFromArray(features), blobs.labels());
        if (testSamples == 0) {
            return new Splits(train, java.util.Optional.empty());
        }
        SplittableRandom root = new SplittableRandom(settings.seed());
        for (int stream = 0; stream < 4; stream++) {
            root.split();                                                   // the training set's four streams
        }
        SplittableRandom testSampleRandom = root.split();
        SplittableRandom testShuffleRandom = root.split();
        double[][] testFeatures = new double[testSamples][];
        int[] testLabels = new int[testSamples];
        drawSamples(blobs.centres(), testSampleRandom, testShuffleRandom, testFeatures, testLabels);
        if (scaler != null) {
            testFeatures = scaler.apply(testFeatures);
        }
        DatasetDescription testDescription = new DatasetDescription(NAME, testSamples, settings.inputDimension(),
                settings.classes(), 0.0, settings.standardize(), settings.seed(), null);
        return new Splits(train, java.util.Optional.of(new Dataset(testDescription, Nd4j.createFromArray(testFeatures),
                testLabels)));
    }

    /**
     * Fills {@code features} and {@code labels} (length n) with samples of the blobs: class sizes n / k,
     * the first n mod k classes one more (make_blobs), x ~ N(c_label, I), then a Fisher-Yates shuffle
     * (make_blobs' shuffle=True).
     */
    private static void drawSamples(double[][] centres, SplittableRandom sampleRandom, SplittableRandom shuffleRandom,
                                    double[][] features, int[] labels) {
        int n = features.length;
        int k = centres.length;
        int d = centres[0].length;
        int row = 0;
        for (int c = 0; c < k; c++) {
            int size = n / k + (c < n % k ? 1 : 0);
            for (int s = 0; s < size; s++, row++) {
                double[] x = new double[d];
                for (int j = 0; j < d; j++) {
                    x[j] = centres[c][j] + sampleRandom.nextGaussian();
                }
                features[row] = x;
                labels[row] = c;
            }
        }
        for (int i = n - 1; i > 0; i--) {
            int j = shuffleRandom.nextInt(i + 1);
            double[] x = features[i];
            features[i] = features[j];
            features[j] = x;
            int y = labels[i];
            labels[i] = labels[j];
            labels[j] = y;
        }
    }

    /**
     * In each class, picks {@code perClass} of its samples uniformly without replacement and gives
     * each a label drawn uniformly from the k classes (Sec. A.1).
     */
    private static void randomizeLabels(int[] clean, int k, int perClass, SplittableRandom random, int[] labels,
                                        boolean[] replaced) {
        for (int c = 0; c < k && perClass > 0; c++) {
            int[] members = membersOf(clean, c);
            // Partial Fisher-Yates: the first perClass entries become a uniform sample without replacement.
            for (int i = 0; i < perClass; i++) {
                int j = i + random.nextInt(members.length - i);
                int chosen = members[j];
                members[j] = members[i];
                members[i] = chosen;
                labels[chosen] = random.nextInt(k);
                replaced[chosen] = true;
            }
        }
    }

    private static int[] membersOf(int[] clean, int c) {
        int count = 0;
        for (int y : clean) {
            if (y == c) {
                count++;
            }
        }
        int[] members = new int[count];
        int next = 0;
        for (int i = 0; i < clean.length; i++) {
            if (clean[i] == c) {
                members[next++] = i;
            }
        }
        return members;
    }
}
