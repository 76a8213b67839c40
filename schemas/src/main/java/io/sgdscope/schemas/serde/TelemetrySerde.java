package io.sgdscope.schemas.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for telemetry records in Avro's single-object encoding (Avro specification,
 * "Single object encoding"): the marker {@code C3 01}, the 8-byte little-endian CRC-64-AVRO
 * fingerprint of the writer schema, then the Avro binary body. Any Avro implementation that has
 * our {@code .avsc} files can read a topic; no schema registry is involved.
 *
 * <p>The reader accepts every released writer version ({@link SchemaCatalog}) of the record types
 * this topic carries and resolves it to the current generated class. Thread-safe: Kafka Streams
 * shares one instance between its threads.
 *
 * @param <T> the value type; {@link SpecificRecord} itself for topics that carry several types
 */
public final class TelemetrySerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

    static final byte MARKER_0 = (byte) 0xC3;
    static final byte MARKER_1 = (byte) 0x01;
    static final int HEADER_LENGTH = 10;

    static {
        AvroLimits.install(); // before the first decode: Avro reads its limits once
    }

    private final Class<T> valueType;
    private final Set<Class<? extends SpecificRecord>> carried;
    private final Map<Long, SpecificDatumReader<T>> readers = new HashMap<>();
    private final Map<Long, Class<? extends SpecificRecord>> readerClasses = new HashMap<>();
    private final Map<Class<?>, BinaryMessageEncoder<SpecificRecord>> encoders = new HashMap<>();

    /**
     * @param valueType the Java type of values on the topic
     * @param carried the record types the topic carries (each a subtype of valueType)
     * @param catalog the known writer versions
     */
    public TelemetrySerde(Class<T> valueType, List<Class<? extends T>> carried, SchemaCatalog catalog) {
        if (carried.isEmpty()) {
            throw new IllegalArgumentException("a topic carries at least one record type");
        }
        this.valueType = valueType;
        this.carried = Set.copyOf(carried);
        for (Class<? extends T> type : carried) {
            Schema readerSchema = SchemaCatalog.currentSchema(type);
            SpecificData model = SpecificData.getForClass(type);
            encoders.put(type, new BinaryMessageEncoder<>(model, readerSchema));
            for (SchemaCatalog.WriterVersion version : catalog.versionsOf(type)) {
                readers.put(version.fingerprint(), new SpecificDatumReader<>(version.schema(), readerSchema, model));
                readerClasses.put(version.fingerprint(), type);
            }
        }
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        BinaryMessageEncoder<SpecificRecord> encoder = encoders.get(record.getClass());
        if (encoder == null) {
            throw new IllegalArgumentException("topic " + topic + " carries " + names(carried) + ", not "
                    + record.getClass().getSimpleName());
        }
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + record.getClass().getSimpleName() + " for " + topic, e);
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return decode(topic, -1, -1L, data);
    }

    @Override
    public T deserialize(String topic, Headers headers, byte[] data) {
        return decode(topic, -1, -1L, data);
    }

    /**
     * Reads a record whose location is known, so that an error names topic, partition and offset.
     *
     * @return the record, or null for a null value (a tombstone)
     * @throws UnreadableRecordException if the bytes are not a record this topic carries
     */
    public T decode(String topic, int partition, long offset, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < HEADER_LENGTH || data[0] != MARKER_0 || data[1] != MARKER_1) {
            throw new UnreadableRecordException(topic, partition, offset, "not an Avro single-object encoded record ("
                    + data.length + " bytes, header " + hex(data, Math.min(data.length, 2)) + ", expected C301)", null);
        }
        long fingerprint = ByteBuffer.wrap(data, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        SpecificDatumReader<T> reader = readers.get(fingerprint);
        if (reader == null) {
            throw new UnreadableRecordException(topic, partition, offset, "unknown schema fingerprint "
                    + String.format("%016x", fingerprint) + describe(fingerprint), null);
        }
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, HEADER_LENGTH, data.length - HEADER_LENGTH, null);
            T record = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new UnreadableRecordException(topic, partition, offset, "corrupt "
                        + readerClasses.get(fingerprint).getSimpleName() + ": bytes left over after the record", null);
            }
            return record;
        } catch (UnreadableRecordException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Garbage after a valid header fails in many ways inside Avro: EOF, AvroRuntimeException, a
            // negative or absurd length (SystemLimitException is an UnsupportedOperationException), ...
            throw new UnreadableRecordException(topic, partition, offset, "corrupt "
                    + readerClasses.get(fingerprint).getSimpleName() + ": " + e, e);
        }
    }

    /** The record types this serde reads and writes. */
    public Set<Class<? extends SpecificRecord>> carried() {
        return carried;
    }

    public Class<T> valueType() {
        return valueType;
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // Nothing to configure: the schemas travel with the class path.
    }

    @Override
    public void close() {
        // Nothing to release.
    }

    private String describe(long fingerprint) {
        return SchemaCatalog.defaultCatalog().find(fingerprint)
                .map(v -> " (a " + v.readerClass().getSimpleName() + ", but this topic carries " + names(carried) + ")")
                .orElse(" (not a released version of " + names(carried) + ")");
    }

    private static String names(Set<Class<? extends SpecificRecord>> types) {
        return types.stream().map(Class::getSimpleName).sorted().collect(Collectors.joining(" or "));
    }

    private static String hex(byte[] data, int n) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < n; i++) {
            text.append(String.format("%02X", data[i]));
        }
        return text.toString();
    }
}
