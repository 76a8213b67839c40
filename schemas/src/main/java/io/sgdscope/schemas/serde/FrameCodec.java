package io.sgdscope.schemas.serde;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Avro binary body of the current IterationFrame schema, written from and read into a {@link Frame}'s
 * primitive arrays. Avro's own datum writer and reader hold {@code array<double>} as boxed {@code Double}s
 * (one object per run and column), which costs more than training a small net; this codec moves the doubles
 * straight between {@code double[]} and the wire. The bytes are exactly Avro's binary encoding (Avro
 * specification, "Binary Encoding": zig-zag varints, little-endian IEEE doubles, arrays as blocks ended by
 * a zero count, unions as a branch index then the value), so any Avro reader with IterationFrame.avsc
 * reads them; tests check that against Avro's Java reader and python3-avro. Older writer versions of the
 * schema, if any are released, are read through Avro's schema resolution instead.
 */
final class FrameCodec {

    private FrameCodec() {}

    /** The body's size in bytes, at most (exact but for varints, which may take fewer bytes). */
    static int maxSize(Frame frame) {
        int n = frame.size();
        int size = 5 + 3 * 10 + 10;
        size += 5 + frame.experimentId().length() * 3;
        for (int i = 0; i < n; i++) {
            size += 5 + frame.runId(i).length() * 3;
        }
        for (FrameColumn column : FrameColumn.all()) {
            size += 1 + 10 + 1 + (column.optional() ? 9 : Double.BYTES) * n;
        }
        return size;
    }

    /** Writes the body at {@code out[offset]}, returns the offset after it. */
    static int write(Frame frame, byte[] out, int offset) {
        Writer w = new Writer(out, offset);
        w.string(frame.experimentId());
        w.varint(frame.iteration());
        w.varlong(frame.timestampMillis());
        int n = frame.size();
        w.varint(n);
        for (int i = 0; i < n; i++) {
            w.string(frame.runId(i));
        }
        w.varint(0);
        for (FrameColumn column : FrameColumn.all()) {
            double[] values = frame.column(column);
            switch (column.kind()) {
                case REQUIRED -> {
                    w.varint(n);
                    for (int i = 0; i < n; i++) {
                        w.doubleBits(values[i]);
                    }
                    w.varint(0);
                }
                case REQUIRED_INT -> {
                    w.varint(n);
                    for (int i = 0; i < n; i++) {
                        w.varint((int) values[i]);
                    }
                    w.varint(0);
                }
                case OPTIONAL -> {
                    if (values == null) {
                        w.varint(0); // union branch 0: null
                        continue;
                    }
                    w.varint(1);
                    boolean[] missing = frame.missing(column);
                    w.varint(n);
                    for (int i = 0; i < n; i++) {
                        if (missing != null && missing[i]) {
                            w.varint(0);
                        } else {
                            w.varint(1);
                            w.doubleBits(values[i]);
                        }
                    }
                    w.varint(0);
                }
            }
        }
        return w.position;
    }

    /**
     * Reads a body that fills {@code data[offset, data.length)}.
     *
     * @throws IOException if the bytes are not such a body (truncated, counts beyond the data, bad branch, left-over bytes)
     */
    static Frame read(byte[] data, int offset) throws IOException {
        Reader r = new Reader(data, offset);
        String experimentId = r.string();
        int iteration = r.varint();
        long timestamp = r.varlong();
        String[] runIds = new String[0];
        int n = 0;
        for (int count = r.blockCount(1); count != 0; count = r.blockCount(1)) {
            runIds = Arrays.copyOf(runIds, n + count);
            for (int i = 0; i < count; i++) {
                runIds[n++] = r.string();
            }
        }
        if (n == 0) {
            throw new IOException("a frame without runs");
        }
        Frame.Builder builder = Frame.builder(experimentId, iteration, timestamp, runIds);
        for (FrameColumn column : FrameColumn.all()) {
            switch (column.kind()) {
                case REQUIRED -> builder.column(column, r.doubles(column, n));
                case REQUIRED_INT -> builder.column(column, r.ints(column, n));
                case OPTIONAL -> {
                    int branch = r.varint();
                    if (branch == 1) {
                        r.optionalDoubles(builder, column, n);
                    } else if (branch != 0) {
                        throw new IOException("column " + column.field() + ": union branch " + branch);
                    }
                }
            }
        }
        if (r.position != data.length) {
            throw new IOException((data.length - r.position) + " bytes left over after the frame");
        }
        return builder.build();
    }

    private static final class Writer {
        final byte[] out;
        int position;

        Writer(byte[] out, int position) {
            this.out = out;
            this.position = position;
        }

        void varint(int value) {
            int zigzag = (value << 1) ^ (value >> 31);
            while ((zigzag & ~0x7F) != 0) {
                out[position++] = (byte) ((zigzag & 0x7F) | 0x80);
                zigzag >>>= 7;
            }
            out[position++] = (byte) zigzag;
        }

        void varlong(long value) {
            long zigzag = (value << 1) ^ (value >> 63);
            while ((zigzag & ~0x7FL) != 0) {
                out[position++] = (byte) ((zigzag & 0x7F) | 0x80);
                zigzag >>>= 7;
            }
            out[position++] = (byte) zigzag;
        }

        void doubleBits(double value) {
            long bits = Double.doubleToRawLongBits(value);
            for (int k = 0; k < 8; k++) {
                out[position++] = (byte) (bits >>> (8 * k));
            }
        }

        void string(String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            varint(bytes.length);
            System.arraycopy(bytes, 0, out, position, bytes.length);
            position += bytes.length;
        }
    }

    private static final class Reader {
        final byte[] data;
        int position;

        Reader(byte[] data, int position) {
            this.data = data;
            this.position = position;
        }

        int varint() throws IOException {
            long value = varlong();
            if (value != (int) value) {
                throw new IOException("int out of range: " + value);
            }
            return (int) value;
        }

        long varlong() throws IOException {
            long zigzag = 0;
            for (int shift = 0; ; shift += 7) {
                if (position >= data.length) {
                    throw new EOFException("truncated frame");
                }
                if (shift > 63) {
                    throw new IOException("varint longer than 10 bytes");
                }
                byte b = data[position++];
                zigzag |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            return (zigzag >>> 1) ^ -(zigzag & 1);
        }

        /** An array block's item count (a negative count is followed by the block's size in bytes); 0 ends the array. */
        int blockCount(int minBytesPerItem) throws IOException {
            long count = varlong();
            if (count < 0) {
                count = -count;
                varlong();
            }
            if (count > (long) (data.length - position) / minBytesPerItem) {
                throw new IOException("an array claims " + count + " items in " + (data.length - position) + " bytes");
            }
            return (int) count;
        }

        String string() throws IOException {
            int length = varint();
            if (length < 0 || length > data.length - position) {
                throw new IOException("a string claims " + length + " bytes, " + (data.length - position) + " left");
            }
            String value = new String(data, position, length, StandardCharsets.UTF_8);
            position += length;
            return value;
        }

        double doubleValue() throws IOException {
            if (position + 8 > data.length) {
                throw new EOFException("truncated frame");
            }
            long bits = 0;
            for (int k = 0; k < 8; k++) {
                bits |= (data[position++] & 0xFFL) << (8 * k);
            }
            return Double.longBitsToDouble(bits);
        }

        double[] doubles(FrameColumn column, int n) throws IOException {
            double[] values = new double[n];
            int filled = 0;
            for (int count = blockCount(Double.BYTES); count != 0; count = blockCount(Double.BYTES)) {
                if (filled + count > n) {
                    throw new IOException("column " + column.field() + " has more than " + n + " values");
                }
                for (int i = 0; i < count; i++) {
                    values[filled++] = doubleValue();
                }
            }
            return checkLength(column, values, filled, n);
        }

        double[] ints(FrameColumn column, int n) throws IOException {
            double[] values = new double[n];
            int filled = 0;
            for (int count = blockCount(1); count != 0; count = blockCount(1)) {
                if (filled + count > n) {
                    throw new IOException("column " + column.field() + " has more than " + n + " values");
                }
                for (int i = 0; i < count; i++) {
                    values[filled++] = varint();
                }
            }
            return checkLength(column, values, filled, n);
        }

        void optionalDoubles(Frame.Builder builder, FrameColumn column, int n) throws IOException {
            double[] values = new double[n];
            boolean[] missing = null;
            int filled = 0;
            for (int count = blockCount(1); count != 0; count = blockCount(1)) {
                if (filled + count > n) {
                    throw new IOException("column " + column.field() + " has more than " + n + " values");
                }
                for (int i = 0; i < count; i++, filled++) {
                    int branch = varint();
                    if (branch == 1) {
                        values[filled] = doubleValue();
                    } else if (branch == 0) {
                        values[filled] = Double.NaN;
                        if (missing == null) {
                            missing = new boolean[n];
                        }
                        missing[filled] = true;
                    } else {
                        throw new IOException("column " + column.field() + ": union branch " + branch);
                    }
                }
            }
            builder.column(column, checkLength(column, values, filled, n), missing);
        }

        private static double[] checkLength(FrameColumn column, double[] values, int filled, int n) throws IOException {
            if (filled != n) {
                throw new IOException("column " + column.field() + " has " + filled + " values for " + n + " runs");
            }
            return values;
        }
    }
}
