package io.sgdscope.schemas.serde;

import io.sgdscope.schemas.IterationFrame;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.frames.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The serde of sgd.iterations as every reader sees it: {@link Frame}s. It writes IterationFrame records in
 * single-object encoding (the body through {@link FrameCodec}), and reads both record types the topic
 * carries: IterationFrame, and IterationMetrics (a trainer that publishes per run), which is read as a frame
 * of one run. Thread-safe.
 */
public final class FrameSerde implements Serde<Frame>, Serializer<Frame>, Deserializer<Frame> {

    private static final long CURRENT = SchemaCatalog.fingerprint(IterationFrame.getClassSchema());
    private static final byte[] HEADER = header(CURRENT);

    /** Per-run records and IterationFrame versions other than the current one, read through Avro. */
    private final TelemetrySerde<org.apache.avro.specific.SpecificRecord> avro = new TelemetrySerde<>(
            org.apache.avro.specific.SpecificRecord.class, List.of(IterationMetrics.class, IterationFrame.class),
            SchemaCatalog.defaultCatalog());

    @Override
    public byte[] serialize(String topic, Frame frame) {
        if (frame == null) {
            return null;
        }
        byte[] out = new byte[TelemetrySerde.HEADER_LENGTH + FrameCodec.maxSize(frame)];
        System.arraycopy(HEADER, 0, out, 0, HEADER.length);
        int end = FrameCodec.write(frame, out, TelemetrySerde.HEADER_LENGTH);
        return end == out.length ? out : Arrays.copyOf(out, end);
    }

    @Override
    public Frame deserialize(String topic, byte[] data) {
        return decode(topic, -1, -1L, data);
    }

    @Override
    public Frame deserialize(String topic, Headers headers, byte[] data) {
        return decode(topic, -1, -1L, data);
    }

    /**
     * @return the frame, or null for a null value (a tombstone)
     * @throws UnreadableRecordException if the bytes are neither an IterationFrame nor an IterationMetrics record
     */
    public Frame decode(String topic, int partition, long offset, byte[] data) {
        if (data != null && data.length >= TelemetrySerde.HEADER_LENGTH && data[0] == TelemetrySerde.MARKER_0
                && data[1] == TelemetrySerde.MARKER_1
                && ByteBuffer.wrap(data, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() == CURRENT) {
            try {
                return FrameCodec.read(data, TelemetrySerde.HEADER_LENGTH);
            } catch (IOException | RuntimeException e) {
                throw new UnreadableRecordException(topic, partition, offset, "corrupt IterationFrame: " + e.getMessage(), e);
            }
        }
        Object record = avro.decode(topic, partition, offset, data);
        if (record == null) {
            return null;
        }
        try {
            return record instanceof IterationMetrics metrics ? Frame.of(metrics) : Frame.of((IterationFrame) record);
        } catch (RuntimeException e) {
            throw new UnreadableRecordException(topic, partition, offset, "inconsistent IterationFrame: " + e.getMessage(), e);
        }
    }

    @Override
    public Serializer<Frame> serializer() {
        return this;
    }

    @Override
    public Deserializer<Frame> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // Nothing to configure.
    }

    @Override
    public void close() {
        // Nothing to release.
    }

    private static byte[] header(long fingerprint) {
        ByteBuffer header = ByteBuffer.allocate(TelemetrySerde.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.put(TelemetrySerde.MARKER_0).put(TelemetrySerde.MARKER_1).putLong(fingerprint);
        return header.array();
    }
}
