package io.sgdscope.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CPU build's per-run OpenBLAS products equal, run for run, the product of each pair of matrices
 * computed in plain Java in float64, for every transpose combination; and ND4J's batched matmul agrees.
 */
class BatchedProductsTest {

    private static double[][] matrix(INDArray batch, int r, boolean transpose) {
        double[][] m = batch.tensorAlongDimension(r, 1, 2).toDoubleMatrix();
        if (!transpose) {
            return m;
        }
        double[][] t = new double[m[0].length][m.length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                t[j][i] = m[i][j];
            }
        }
        return t;
    }

    private static void check(BatchedProducts products, DataType type, boolean ta, boolean tb, double tolerance) {
        int runs = 7;
        int m = 4;
        int k = 5;
        int n = 3;
        Nd4j.getRandom().setSeed(11);
        INDArray a = ta ? Nd4j.randn(DataType.DOUBLE, runs, k, m) : Nd4j.randn(DataType.DOUBLE, runs, m, k);
        INDArray b = tb ? Nd4j.randn(DataType.DOUBLE, runs, n, k) : Nd4j.randn(DataType.DOUBLE, runs, k, n);
        INDArray c = Nd4j.create(type, runs, m, n);
        products.multiply(a.castTo(type), b.castTo(type), c, ta, tb);
        for (int r = 0; r < runs; r++) {
            double[][] x = matrix(a, r, ta);
            double[][] y = matrix(b, r, tb);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int l = 0; l < k; l++) {
                        expected += x[i][l] * y[l][j];
                    }
                    assertEquals(expected, c.getDouble(r, i, j), tolerance,
                            products.getClass().getSimpleName() + " " + type + " ta=" + ta + " tb=" + tb + " run " + r);
                }
            }
        }
    }

    @Test
    void everyRunsProductIsItsOwnForEveryTransposeCombination() {
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts(),
                BackendProducts.create()}) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    check(products, DataType.DOUBLE, ta, tb, 1e-13);
                    check(products, DataType.FLOAT, ta, tb, 1e-5);
                }
            }
        }
    }

    @Test
    void operandsAndResultMayBeColumnRangesOfWiderArrays() {
        // As the ensemble uses them: B the first columns of [R, n, k + 1] (weights beside their bias
        // column), C the first columns of [R, m, n + 1] (activations beside their column of ones), whose
        // other column must stay as it was.
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts(),
                BackendProducts.create()}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                int runs = 5;
                int m = 4;
                int k = 3;
                int n = 6;
                Nd4j.getRandom().setSeed(17);
                INDArray a = Nd4j.randn(DataType.DOUBLE, runs, m, k).castTo(type);
                INDArray wide = Nd4j.randn(DataType.DOUBLE, runs, n, k + 1).castTo(type);
                INDArray b = wide.get(all(), all(), interval(0, k));                 // [R, n, k], rows k + 1 apart
                INDArray out = Nd4j.valueArrayOf(new long[] {runs, m, n + 1}, 7.0, type);
                INDArray c = out.get(all(), all(), interval(0, n));                  // [R, m, n], rows n + 1 apart
                products.multiply(a, b, c, false, true);
                for (int r = 0; r < runs; r++) {
                    double[][] x = a.tensorAlongDimension(r, 1, 2).toDoubleMatrix();
                    double[][] y = wide.tensorAlongDimension(r, 1, 2).toDoubleMatrix();
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double expected = 0;
                            for (int l = 0; l < k; l++) {
                                expected += x[i][l] * y[j][l];
                            }
                            assertEquals(expected, out.getDouble(r, i, j), type == DataType.DOUBLE ? 1e-13 : 1e-5,
                                    products.getClass().getSimpleName() + " " + type + " run " + r);
                        }
                        assertEquals(7.0, out.getDouble(r, i, n), "the column beside the result is untouched");
                    }
                }
            }
        }
    }

    @Test
    void operandsAndResultMayStartInsideLargerArrays() {
        // As the ensemble's curvature probe uses them: runs 2..4 of a block, and one layer's block of every run's
        // flat parameter vector (a view starting at that layer's offset, runs p apart).
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts(),
                BackendProducts.create()}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                int runs = 6;
                int m = 4;
                int k = 3;
                int n = 5;
                int p = 40;
                int offset = 7;
                Nd4j.getRandom().setSeed(19);
                INDArray all = Nd4j.randn(DataType.DOUBLE, runs, m, k).castTo(type);
                INDArray a = all.get(interval(2, 5), all(), all());                  // runs 2, 3, 4
                INDArray flat = Nd4j.randn(DataType.DOUBLE, 3, p).castTo(type);
                INDArray b = Nd4j.create(flat.data(), new long[] {3, k, n}, new long[] {p, n, 1}, offset, 'c');
                INDArray out = Nd4j.valueArrayOf(new long[] {3, p}, 7.0, type);
                INDArray c = Nd4j.create(out.data(), new long[] {3, m, n}, new long[] {p, n, 1}, offset, 'c');
                products.multiply(a, b, c, false, false);
                for (int r = 0; r < 3; r++) {
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double expected = 0;
                            for (int l = 0; l < k; l++) {
                                expected += all.getDouble(r + 2, i, l) * flat.getDouble(r, offset + l * n + j);
                            }
                            assertEquals(expected, out.getDouble(r, offset + i * n + j), type == DataType.DOUBLE ? 1e-13 : 1e-5,
                                    products.getClass().getSimpleName() + " " + type + " run " + r);
                        }
                    }
                    for (int e = 0; e < p; e++) {
                        if (e < offset || e >= offset + m * n) {
                            assertEquals(7.0, out.getDouble(r, e), "outside the view: untouched");
                        }
                    }
                }
            }
        }
    }

    @Test
    void aMatrixSharedByEveryRunMultipliesEachRunsOwn() {
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts()}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                Nd4j.getRandom().setSeed(5);
                INDArray x = Nd4j.randn(DataType.DOUBLE, 6, 4);                  // [n, d], shared
                INDArray w = Nd4j.randn(DataType.DOUBLE, 3, 2, 4);               // [R, h, d]: each run's W^T
                INDArray c = Nd4j.create(type, 3, 6, 2);
                products.multiply(x.castTo(type), w.castTo(type), c, false, true);
                for (int r = 0; r < 3; r++) {
                    INDArray expected = x.mmul(w.tensorAlongDimension(r, 1, 2).transpose());
                    for (int i = 0; i < 6; i++) {
                        for (int j = 0; j < 2; j++) {
                            assertEquals(expected.getDouble(i, j), c.getDouble(r, i, j), type == DataType.DOUBLE ? 1e-13 : 1e-5,
                                    products.getClass().getSimpleName() + " " + type + " run " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void multiplyAddAccumulatesOntoWhatTheResultHeld() {
        // As the R-operator uses it: c = c0 + op(a) op(b) with c a view of every run's flat vector (one layer's rows).
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts(),
                BackendProducts.create()}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                for (boolean ta : new boolean[] {false, true}) {
                    int runs = 4;
                    int m = 3;
                    int k = 5;
                    int n = 2;
                    int p = 20;
                    int offset = 3;
                    Nd4j.getRandom().setSeed(23);
                    INDArray a = (ta ? Nd4j.randn(DataType.DOUBLE, runs, k, m) : Nd4j.randn(DataType.DOUBLE, runs, m, k)).castTo(type);
                    INDArray b = Nd4j.randn(DataType.DOUBLE, runs, n, k).castTo(type);
                    INDArray start = Nd4j.randn(DataType.DOUBLE, runs, p);
                    INDArray out = start.castTo(type).dup();                         // castTo may return start itself
                    INDArray c = Nd4j.create(out.data(), new long[] {runs, m, n}, new long[] {p, n, 1}, offset, 'c');
                    products.multiplyAdd(a, b, c, ta, true);
                    for (int r = 0; r < runs; r++) {
                        double[][] x = matrix(a.castTo(DataType.DOUBLE), r, ta);
                        double[][] y = matrix(b.castTo(DataType.DOUBLE), r, true);
                        for (int e = 0; e < p; e++) {
                            double expected = start.castTo(type).getDouble(r, e);
                            if (e >= offset && e < offset + m * n) {
                                int i = (e - offset) / n;
                                int j = (e - offset) % n;
                                for (int l = 0; l < k; l++) {
                                    expected += x[i][l] * y[l][j];
                                }
                            }
                            assertEquals(expected, out.getDouble(r, e), type == DataType.DOUBLE ? 1e-13 : 1e-5,
                                    products.getClass().getSimpleName() + " " + type + " ta=" + ta + " run " + r + " entry " + e);
                        }
                    }
                }
            }
        }
    }

    @Test
    void selfProductsGiveEachRunsUpperTriangleOfAATransposed() {
        // As the Gram matrices use them: a = runs 1..3 of [R, n, k] (a view), c [3, n, n]; only j >= i is promised.
        for (BatchedProducts products : new BatchedProducts[] {new CblasBatchedProducts(), new Nd4jBatchedProducts(),
                BackendProducts.create()}) {
            for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
                int n = 7;
                int k = 3;
                Nd4j.getRandom().setSeed(29);
                INDArray all = Nd4j.randn(DataType.DOUBLE, 5, n, k);
                INDArray a = all.castTo(type).get(interval(1, 4), all(), all());
                INDArray c = Nd4j.create(type, 3, n, n);
                products.selfProducts(a, c);
                for (int r = 0; r < 3; r++) {
                    for (int i = 0; i < n; i++) {
                        for (int j = i; j < n; j++) {
                            double expected = 0;
                            for (int l = 0; l < k; l++) {
                                expected += all.getDouble(r + 1, i, l) * all.getDouble(r + 1, j, l);
                            }
                            assertEquals(expected, c.getDouble(r, i, j), type == DataType.DOUBLE ? 1e-13 : 1e-5,
                                    products.getClass().getSimpleName() + " " + type + " run " + r + " (" + i + ", " + j + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void mismatchedShapesAreRefused() {
        INDArray a = Nd4j.create(DataType.DOUBLE, 2, 3, 4);
        INDArray b = Nd4j.create(DataType.DOUBLE, 2, 5, 6);
        assertThrows(IllegalArgumentException.class,
                () -> new CblasBatchedProducts().multiply(a, b, Nd4j.create(DataType.DOUBLE, 2, 3, 6), false, false));
    }
}
