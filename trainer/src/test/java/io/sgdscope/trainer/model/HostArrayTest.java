package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The heap copies of the ensemble's minibatch pass: the branch-free ReLU derivative keeps a value exactly
 * where the plain comparison {@code h > 0} holds, for every kind of float and double (signed zeros,
 * subnormals, infinities, NaNs), and rows move in and out of ND4J arrays (views included) unchanged.
 */
class HostArrayTest {

    private static final float[] FLOAT_ACTIVATIONS = {
        0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, 0.5f, 1f, 3.4e38f, Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0xFFC00000), -1f,
        -Float.MAX_VALUE, Float.intBitsToFloat(0x7F800001), Float.intBitsToFloat(0x7FFFFFFF)};

    private static final double[] DOUBLE_ACTIVATIONS = {
        0d, -0d, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, 1e-300, 0.5, 1, 1e308, Double.MAX_VALUE,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, Double.longBitsToDouble(0xFFF8000000000000L),
        -1, -Double.MAX_VALUE, Double.longBitsToDouble(0x7FF0000000000001L),
        Double.longBitsToDouble(0x7FFFFFFFFFFFFFFFL)};

    @Test
    void reluDerivativeKeepsExactlyTheValuesWhoseActivationIsPositive() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            int width = type == DataType.FLOAT ? FLOAT_ACTIVATIONS.length : DOUBLE_ACTIVATIONS.length;
            int rows = 3;
            HostArray activations = HostArray.of(type, rows * (width + 1));
            HostArray gradient = HostArray.of(type, rows * width);
            double[] expected = new double[rows * width];
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < width; j++) {
                    double h = type == DataType.FLOAT ? FLOAT_ACTIVATIONS[(j + row) % width]
                            : DOUBLE_ACTIVATIONS[(j + row) % width];
                    activations.set(row * (width + 1) + j, h);
                    double g = (row % 2 == 0 ? 1 : -1) * (j + 1.25);
                    if (j == width - 1) {
                        g = Double.NaN;                                   // kept or dropped like any value
                    }
                    gradient.set(row * width + j, g);
                    expected[row * width + j] = h > 0 ? g : 0;
                }
                activations.set(row * (width + 1) + width, 1);               // the column of ones, never read
            }
            gradient.keepWherePositive(activations, rows, width);
            for (int i = 0; i < rows * width; i++) {
                assertEquals(expected[i], gradient.get(i), 0, type + " value " + i);
                if (expected[i] == 0) {
                    assertEquals(0, Double.doubleToRawLongBits(gradient.get(i)), type + " value " + i + " is +0");
                }
            }
        }
    }

    @Test
    void rowsAreGatheredFromStridedViewsAndWrittenBackUnchanged() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            int runs = 3;
            int n = 6;
            int width = 4;
            // A [n, R (width + 2)] array seen as [R, n, width]: run stride width + 2, row stride R (width + 2), offset 1.
            INDArray wide = Nd4j.linspace(DataType.DOUBLE, 1, n * runs * (width + 2), 1)
                    .reshape('c', n, runs * (width + 2)).castTo(type);
            INDArray view = wide.reshape('c', n, runs, width + 2).permute(1, 0, 2).get(all(), all(), interval(1, width + 1));
            int[] rowOf = {5, 0, 0, 2, 3, 1};                                    // two rows per run
            HostArray rows = HostArray.of(type, rowOf.length * width);
            rows.gatherRows(view, rowOf, 2, width);
            for (int j = 0; j < rowOf.length; j++) {
                for (int c = 0; c < width; c++) {
                    assertEquals(view.getDouble(j / 2, rowOf[j], c), rows.get(j * width + c), 0, type + " row " + j);
                }
            }
            INDArray target = Nd4j.create(type, runs, 2, width);
            rows.writeTo(target, rowOf.length * width);
            HostArray back = HostArray.copyOf(target);
            for (int i = 0; i < rowOf.length * width; i++) {
                assertEquals(rows.get(i), back.get(i), 0);
            }
            HostArray packed = HostArray.copyOf(Nd4j.linspace(DataType.DOUBLE, 1, n * width, 1).castTo(type));
            HostArray picked = HostArray.of(type, rowOf.length * width);
            picked.gatherRows(packed, rowOf, width);
            for (int j = 0; j < rowOf.length; j++) {
                assertEquals(rowOf[j] * width + 1, picked.get(j * width), 0, type + " packed row " + j);
            }
        }
    }
}
