package io.sgdscope.trainer.model;

import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A heap array of float or double values (the model's precision) that moves whole blocks in and out of
 * ND4J arrays' host memory with bulk copies: {@link BatchedMlp}'s minibatch pass works on such copies,
 * because a few hundred thousand values per iteration are cheaper to copy than to touch one ND4J op or
 * one {@code getDouble} at a time.
 */
abstract class HostArray {

    static HostArray of(DataType type, int length) {
        if (type == DataType.DOUBLE) {
            return new Doubles(length);
        }
        if (type == DataType.FLOAT) {
            return new Floats(length);
        }
        throw new IllegalArgumentException("host arrays are float32 or float64, got " + type);
    }

    /** The values of a contiguous array (from its offset), e.g. the training features. */
    static HostArray copyOf(INDArray array) {
        HostArray copy = of(array.dataType(), (int) array.length());
        copy.readFrom(array, (int) array.length());
        return copy;
    }

    abstract double get(int index);

    abstract void set(int index, double value);

    /** this[0 .. length) = the first length values of a contiguous array (from its offset). */
    abstract void readFrom(INDArray source, int length);

    /** The first length values of a contiguous array (from its offset) = this[0 .. length). */
    abstract void writeTo(INDArray target, int length);

    /**
     * Row j of this (rows of {@code width}, packed) = row {@code rowOf[j]} of run {@code j / rowsPerRun} of
     * {@code source}, a [R, n, width] array whose rows are contiguous (any run and row strides).
     */
    abstract void gatherRows(INDArray source, int[] rowOf, int rowsPerRun, int width);

    /** Row j of this = row {@code rowOf[j]} of {@code source}, a packed [n, width] host array of the same type. */
    abstract void gatherRows(HostArray source, int[] rowOf, int width);

    /**
     * The ReLU derivative applied to rows of {@code width} values: this[i, j] stays where activations[i, j] > 0
     * and becomes 0 elsewhere (relu'(0) = 0, a NaN activation gives 0), activations having {@code width + 1}
     * values per row (a column of ones beside). Branch-free on the value's bits: the signs of ReLU outputs are
     * a coin toss to the branch predictor, which made the plain comparison cost 4 ns per value.
     */
    abstract void keepWherePositive(HostArray activations, int rows, int width);

    private static java.nio.ByteBuffer bytes(INDArray array) {
        return array.data().asNio().order(ByteOrder.nativeOrder());
    }

    private static final class Floats extends HostArray {
        final float[] values;

        Floats(int length) {
            values = new float[length];
        }

        @Override
        double get(int index) {
            return values[index];
        }

        @Override
        void set(int index, double value) {
            values[index] = (float) value;
        }

        @Override
        void readFrom(INDArray source, int length) {
            bytes(source).asFloatBuffer().get((int) source.offset(), values, 0, length);
        }

        @Override
        void writeTo(INDArray target, int length) {
            bytes(target).asFloatBuffer().put((int) target.offset(), values, 0, length);
        }

        @Override
        void gatherRows(INDArray source, int[] rowOf, int rowsPerRun, int width) {
            java.nio.FloatBuffer from = bytes(source).asFloatBuffer();
            long offset = source.offset();
            long runStride = source.stride(0);
            long rowStride = source.stride(1);
            for (int j = 0; j < rowOf.length; j++) {
                from.get((int) (offset + (j / rowsPerRun) * runStride + rowOf[j] * rowStride), values, j * width, width);
            }
        }

        @Override
        void gatherRows(HostArray source, int[] rowOf, int width) {
            float[] from = ((Floats) source).values;
            for (int j = 0; j < rowOf.length; j++) {
                System.arraycopy(from, rowOf[j] * width, values, j * width, width);
            }
        }

        @Override
        void keepWherePositive(HostArray activations, int rows, int width) {
            float[] h = ((Floats) activations).values;
            for (int row = 0; row < rows; row++) {
                int from = row * (width + 1);
                int to = row * width;
                for (int j = 0; j < width; j++) {
                    values[to + j] = Float.intBitsToFloat(Float.floatToRawIntBits(values[to + j])
                            & positiveMask(Float.floatToRawIntBits(h[from + j])));
                }
            }
        }

        /**
         * -1 (all bits) when the float with these bits is > 0 and not NaN, else 0: bits - 1 lies in
         * [0, 0x7F800000) exactly for +Float.MIN_VALUE .. +infinity.
         */
        private static int positiveMask(int bits) {
            int belowOne = bits - 1;
            return ((belowOne - 0x7F800000) >> 31) & ~(belowOne >> 31);
        }
    }

    private static final class Doubles extends HostArray {
        final double[] values;

        Doubles(int length) {
            values = new double[length];
        }

        @Override
        double get(int index) {
            return values[index];
        }

        @Override
        void set(int index, double value) {
            values[index] = value;
        }

        @Override
        void readFrom(INDArray source, int length) {
            bytes(source).asDoubleBuffer().get((int) source.offset(), values, 0, length);
        }

        @Override
        void writeTo(INDArray target, int length) {
            bytes(target).asDoubleBuffer().put((int) target.offset(), values, 0, length);
        }

        @Override
        void gatherRows(INDArray source, int[] rowOf, int rowsPerRun, int width) {
            java.nio.DoubleBuffer from = bytes(source).asDoubleBuffer();
            long offset = source.offset();
            long runStride = source.stride(0);
            long rowStride = source.stride(1);
            for (int j = 0; j < rowOf.length; j++) {
                from.get((int) (offset + (j / rowsPerRun) * runStride + rowOf[j] * rowStride), values, j * width, width);
            }
        }

        @Override
        void gatherRows(HostArray source, int[] rowOf, int width) {
            double[] from = ((Doubles) source).values;
            for (int j = 0; j < rowOf.length; j++) {
                System.arraycopy(from, rowOf[j] * width, values, j * width, width);
            }
        }

        @Override
        void keepWherePositive(HostArray activations, int rows, int width) {
            double[] h = ((Doubles) activations).values;
            for (int row = 0; row < rows; row++) {
                int from = row * (width + 1);
                int to = row * width;
                for (int j = 0; j < width; j++) {
                    values[to + j] = Double.longBitsToDouble(Double.doubleToRawLongBits(values[to + j])
                            & positiveMask(Double.doubleToRawLongBits(h[from + j])));
                }
            }
        }

        /** The same for doubles: bits - 1 in [0, 0x7FF0000000000000) exactly for values in (0, +infinity]. */
        private static long positiveMask(long bits) {
            long belowOne = bits - 1;
            return ((belowOne - 0x7FF0000000000000L) >> 63) & ~(belowOne >> 63);
        }
    }
}
