package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.apache.avro.SystemLimitException;
import org.junit.jupiter.api.Test;

class AvroLimitsTest {

    private static final double MARK = 12345.678;

    @Test
    void aSmallRecordClaimingAHugeArrayIsUnreadableBeforeAnythingIsAllocated() {
        // 5 million doubles (40 MB) is below Avro's default allocation guard (a quarter of the heap), so
        // without the limits Avro would allocate the array and only then run out of bytes.
        byte[] claim = claimingArrayOf(5_000_000);
        assertTrue(claim.length < 1_000, "the record itself is small: " + claim.length + " bytes");
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> TelemetrySerdes.spectra().decode(Topics.SPECTRA, 0, 42L, claim));
        assertInstanceOf(SystemLimitException.class, e.getCause(), e.getMessage());
        assertTrue(e.getMessage().contains(String.valueOf(AvroLimits.MAX_COLLECTION_ITEMS)), e.getMessage());
    }

    @Test
    void theLimitsAreSetOnceTheSerdeIsLoaded() {
        TelemetrySerdes.spectra();
        assertEquals(String.valueOf(AvroLimits.MAX_COLLECTION_ITEMS),
                System.getProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY));
        assertEquals(String.valueOf(AvroLimits.MAX_LENGTH), System.getProperty(SystemLimitException.MAX_STRING_LENGTH_PROPERTY));
        assertEquals(String.valueOf(AvroLimits.MAX_LENGTH), System.getProperty(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY));
    }

    /** A valid SpectrumSnapshot whose one-item hessianEigenvalues array is rewritten to claim {@code items}. */
    static byte[] claimingArrayOf(int items) {
        SpectrumSnapshot snapshot = SampleRecords.spectrumSnapshot();
        snapshot.setHessianEigenvalues(List.of(MARK));
        byte[] bytes = TelemetrySerdes.spectra().serialize(Topics.SPECTRA, snapshot);
        byte[] mark = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(MARK).array();
        int at = indexOf(bytes, mark) - 1; // the block count before the item: zig-zag 1 = 0x02
        assertEquals(2, bytes[at]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, at);
        long zigZag = (long) items << 1;
        while ((zigZag & ~0x7FL) != 0) {
            out.write((int) ((zigZag & 0x7F) | 0x80));
            zigZag >>>= 7;
        }
        out.write((int) zigZag);
        out.write(bytes, at + 1, bytes.length - at - 1);
        return out.toByteArray();
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        outer:
        for (int i = 0; i <= bytes.length - part.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (bytes[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("marker not found");
    }
}
