package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.Topics;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class TelemetrySerdeTest {

    @Test
    void everyRecordTypeRoundTripsUnchanged() {
        for (SpecificRecord record : SampleRecords.oneOfEach()) {
            TelemetrySerde<SpecificRecord> serde = serdeFor(record.getClass());
            byte[] bytes = serde.serialize("t", record);
            SpecificRecord back = serde.deserialize("t", bytes);
            assertEquals(record, back, record.getClass().getSimpleName());
            // Maps have no order, so re-encoding may order map entries differently: compare records, not bytes.
            assertEquals(record, serde.deserialize("t", serde.serialize("t", back)), "re-encoding round-trips too");
        }
    }

    @Test
    void messagesStartWithTheSingleObjectMarkerAndTheWriterFingerprint() {
        IterationMetrics record = SampleRecords.iterationMetrics();
        byte[] bytes = TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, record);
        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        // Reference: the specification's CRC-64-AVRO over the parsing canonical form, computed here.
        long expected = Crc64Avro.of(org.apache.avro.SchemaNormalization.toParsingForm(IterationMetrics.SCHEMA$));
        long header = 0;
        for (int i = 9; i >= 2; i--) {
            header = (header << 8) | (bytes[i] & 0xFF);
        }
        assertEquals(expected, header);
    }

    @Test
    void theRunsTopicCarriesBothRunStartedAndRunFinished() {
        TelemetrySerde<SpecificRecord> runs = TelemetrySerdes.runs();
        assertInstanceOf(RunStarted.class, runs.deserialize(Topics.RUNS, runs.serialize(Topics.RUNS, SampleRecords.runStarted())));
        assertInstanceOf(RunFinished.class, runs.deserialize(Topics.RUNS, runs.serialize(Topics.RUNS, SampleRecords.runFinished())));
    }

    @Test
    void aNullValueIsATombstone() {
        assertNull(TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, null));
        assertNull(TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, null));
    }

    @Test
    void bytesWithoutTheMarkerAreRejectedNamingTopicPartitionAndOffset() {
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 3, 1234L, "{\"loss\": 1}".getBytes()));
        assertEquals("unreadable record on topic sgd.iterations, partition 3, offset 1234: not an Avro single-object "
                + "encoded record (11 bytes, header 7B22, expected C301)", e.getMessage());
        assertEquals(3, e.partition());
        assertEquals(1234L, e.offset());
    }

    @Test
    void anUnknownFingerprintIsRejectedNamingTopicPartitionAndOffset() {
        byte[] bytes = TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, SampleRecords.iterationMetrics());
        bytes[5] ^= 0x5A;
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 0, 7L, bytes));
        assertTrue(e.getMessage().startsWith("unreadable record on topic sgd.iterations, partition 0, offset 7: "
                + "unknown schema fingerprint "), e.getMessage());
        assertTrue(e.getMessage().endsWith("(not a released version of IterationMetrics)"), e.getMessage());
    }

    @Test
    void aTruncatedBodyIsRejectedAsCorrupt() {
        byte[] bytes = TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, SampleRecords.iterationMetrics());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 9);
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 1, 99L, truncated));
        assertTrue(e.getMessage().startsWith("unreadable record on topic sgd.iterations, partition 1, offset 99: "
                + "corrupt IterationMetrics: "), e.getMessage());
    }

    @Test
    void trailingBytesAfterTheRecordAreRejectedAsCorrupt() {
        byte[] bytes = TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, SampleRecords.iterationMetrics());
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 1, 100L, longer));
        assertTrue(e.getMessage().endsWith("corrupt IterationMetrics: bytes left over after the record"), e.getMessage());
    }

    @Test
    void garbageAfterAValidHeaderNeverEscapesAsAnotherException() {
        byte[] bytes = TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, SampleRecords.iterationMetrics());
        java.util.Random random = new java.util.Random(1);
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] mangled = bytes.clone();
            for (int i = 10; i < mangled.length; i++) {
                if (random.nextInt(4) == 0) {
                    mangled[i] = (byte) random.nextInt(256);
                }
            }
            try {
                TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 0, trial, mangled);
            } catch (UnreadableRecordException expected) {
                assertEquals(trial, expected.offset());
            }
        }
    }

    @Test
    void aRecordOfAnotherTypeIsRejectedNamingWhatItIs() {
        byte[] started = TelemetrySerdes.runs().serialize(Topics.RUNS, SampleRecords.runStarted());
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().decode(Topics.ITERATIONS, 2, 5L, started));
        assertTrue(e.getMessage().endsWith("(a RunStarted, but this topic carries IterationMetrics)"), e.getMessage());
    }

    @Test
    void theKafkaDeserializerPathNamesTheTopic() {
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, new byte[] {1, 2, 3}));
        assertTrue(e.getMessage().startsWith("unreadable record on topic sgd.iterations (partition and offset not known here)"));
        assertEquals("unreadable record on topic sgd.iterations, partition 4, offset 8: " + e.reason(),
                e.at(4, 8L).getMessage());
    }

    @Test
    void writingATypeTheTopicDoesNotCarryFails() {
        TelemetrySerde<SpecificRecord> runs = TelemetrySerdes.runs();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> runs.serialize(Topics.RUNS, SampleRecords.iterationMetrics()));
        assertEquals("topic sgd.runs carries RunFinished or RunStarted, not IterationMetrics", e.getMessage());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static TelemetrySerde<SpecificRecord> serdeFor(Class<? extends SpecificRecord> type) {
        return new TelemetrySerde(SpecificRecord.class, List.of(type), SchemaCatalog.defaultCatalog());
    }
}
