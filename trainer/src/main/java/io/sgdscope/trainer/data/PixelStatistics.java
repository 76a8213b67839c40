package io.sgdscope.trainer.data;

/**
 * Mean and (population) standard deviation of pixel values, used to normalise images with the
 * training set's statistics: x' = (x - mean) / std. Sums in float64 with a two-pass variance.
 */
record PixelStatistics(double mean, double std) {

    PixelStatistics {
        if (!(std > 0)) {
            throw new DatasetException("the training images are constant: their pixels have no spread to normalise by");
        }
    }

    /**
     * Statistics of the pixels {@code items[i * itemSize + offset + j]} for every item i and 0 <= j < length,
     * each pixel scaled by {@code scale} first (e.g. 1/255 to bring bytes to [0, 1]).
     */
    static PixelStatistics of(byte[] items, int itemSize, int offset, int length, double scale) {
        int count = items.length / itemSize;
        double sum = 0;
        for (int i = 0; i < count; i++) {
            int base = i * itemSize + offset;
            for (int j = 0; j < length; j++) {
                sum += (items[base + j] & 0xff) * scale;
            }
        }
        double n = (double) count * length;
        double mean = sum / n;
        double squares = 0;
        for (int i = 0; i < count; i++) {
            int base = i * itemSize + offset;
            for (int j = 0; j < length; j++) {
                double centred = (items[base + j] & 0xff) * scale - mean;
                squares += centred * centred;
            }
        }
        return new PixelStatistics(mean, Math.sqrt(squares / n));
    }

    double normalise(double value) {
        return (value - mean) / std;
    }
}
