package io.sgdscope.streams.internals;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Byte formats of what the apps alone read: their internal topics and state stores. Not public formats
 * (the public outputs are QuantileSummary and DeviationAlert); each value starts with a format byte so
 * that a later version can still read what an older one left in its topics and stores.
 *
 * <p>Values are big-endian; a string is its UTF-8 length (2 bytes) and bytes. Written and read on byte
 * arrays directly ({@link Out}, {@link In}): per-run state is read and written on every record, and a
 * {@code DataInputStream} reading one byte at a time was a tenth of the quantiles app's time.
 */
public final class Codec {

    /** Writes a value's fields. */
    @FunctionalInterface
    public interface Writer<T> {
        void write(Out out, T value);
    }

    /** Reads a value's fields, given the format byte it was written with. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(In in, byte format);
    }

    private Codec() {}

    /** A serde writing {@code format} first; the reader gets the format byte it finds (it decides what it accepts). */
    public static <T> Serde<T> serde(byte format, Writer<T> writer, Reader<T> reader) {
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : write(format, value, writer),
                (topic, bytes) -> bytes == null ? null : read(topic, bytes, reader));
    }

    public static <T> byte[] write(byte format, T value, Writer<T> writer) {
        Out out = new Out(64);
        out.writeByte(format);
        writer.write(out, value);
        return out.toByteArray();
    }

    public static <T> T read(String where, byte[] bytes, Reader<T> reader) {
        try {
            In in = new In(bytes);
            return reader.read(in, in.readByte());
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new SerializationException("corrupt internal record in " + where + ": " + e, e);
        }
    }

    /** The error for a format byte this version does not read. */
    public static SerializationException unknownFormat(byte format, String what) {
        return new SerializationException(what + " in format " + format + ", which this version of sgdscope does not read");
    }

    /** A nullable double as a double, null written as NaN (for fields where NaN means "not known"). */
    public static double orNaN(Double value) {
        return value == null ? Double.NaN : value;
    }

    /** A growing byte array to write to. */
    public static final class Out {

        private ByteBuffer buffer;

        public Out(int capacity) {
            buffer = ByteBuffer.allocate(Math.max(16, capacity));
        }

        private ByteBuffer room(int bytes) {
            if (buffer.remaining() < bytes) {
                ByteBuffer larger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + bytes));
                buffer.flip();
                larger.put(buffer);
                buffer = larger;
            }
            return buffer;
        }

        public void writeByte(int value) {
            room(1).put((byte) value);
        }

        public void writeBoolean(boolean value) {
            writeByte(value ? 1 : 0);
        }

        public void writeShort(int value) {
            room(2).putShort((short) value);
        }

        public void writeInt(int value) {
            room(4).putInt(value);
        }

        public void writeLong(long value) {
            room(8).putLong(value);
        }

        public void writeDouble(double value) {
            room(8).putDouble(value);
        }

        public void writeDoubles(double[] values, int count) {
            ByteBuffer target = room(8 * count);
            target.asDoubleBuffer().put(values, 0, count);
            target.position(target.position() + 8 * count);
        }

        public void writeBytes(byte[] bytes) {
            room(bytes.length).put(bytes);
        }

        public void writeUTF(String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > 0xFFFF) {
                throw new IllegalArgumentException("string of " + bytes.length + " bytes is longer than 65535");
            }
            writeShort(bytes.length);
            writeBytes(bytes);
        }

        /** A nullable string: a presence byte, then the string. */
        public void writeNullableString(String value) {
            writeBoolean(value != null);
            if (value != null) {
                writeUTF(value);
            }
        }

        public byte[] toByteArray() {
            return Arrays.copyOf(buffer.array(), buffer.position());
        }
    }

    /** A byte array to read from. */
    public static final class In {

        private final ByteBuffer buffer;

        public In(byte[] bytes) {
            buffer = ByteBuffer.wrap(bytes);
        }

        public byte readByte() {
            return buffer.get();
        }

        public boolean readBoolean() {
            return buffer.get() != 0;
        }

        public short readShort() {
            return buffer.getShort();
        }

        public int readInt() {
            return buffer.getInt();
        }

        public long readLong() {
            return buffer.getLong();
        }

        public double readDouble() {
            return buffer.getDouble();
        }

        public void readDoubles(double[] into, int count) {
            buffer.asDoubleBuffer().get(into, 0, count);
            buffer.position(buffer.position() + 8 * count);
        }

        public String readUTF() {
            int length = buffer.getShort() & 0xFFFF;
            String value = new String(buffer.array(), buffer.arrayOffset() + buffer.position(), length, StandardCharsets.UTF_8);
            buffer.position(buffer.position() + length);
            return value;
        }

        public String readNullableString() {
            return readBoolean() ? readUTF() : null;
        }
    }
}
