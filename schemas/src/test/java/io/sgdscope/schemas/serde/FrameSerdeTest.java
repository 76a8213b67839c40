package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationFrame;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

class FrameSerdeTest {

    private final FrameSerde serde = TelemetrySerdes.frames();

    /** Three runs: every kind of column, a missing value, NaN and infinities that are present, an absent column. */
    static Frame sampleFrame() {
        String[] runs = {"gauss10-r00000", "gauss10-r00001", "gauss10-r\u00e9-2"};
        return Frame.builder("gauss10", 7, 1_790_000_000_123L, runs)
                .column(FrameColumn.LOSS, new double[] {2.25, Double.NaN, 0.125})
                .column(FrameColumn.MINIBATCH_LOSS, new double[] {2.0, Double.POSITIVE_INFINITY, -0.0})
                .column(FrameColumn.STEP_SIZE, new double[] {0.1, 0.1, 0.05})
                .column(FrameColumn.BATCH_SIZE, new double[] {5, 5, 1_000_000})
                .column(FrameColumn.SG_NORM, new double[] {3.5, 1e300, 4.9e-324})
                .column(FrameColumn.SG_COS_PREV, new double[] {-0.25, Double.NaN, 0.5}, new boolean[] {false, false, true})
                .column(FrameColumn.TRACE_M, new double[] {20.0, 21.0, Double.NEGATIVE_INFINITY})
                .build();
    }

    @Test
    void aFrameComesBackAsItWasWritten() {
        Frame frame = sampleFrame();
        Frame read = serde.deserialize(Topics.ITERATIONS, serde.serialize(Topics.ITERATIONS, frame));

        assertEquals(frame, read);
        assertEquals(3, read.size());
        assertEquals("gauss10-r00000", read.key());
        assertTrue(Double.isNaN(read.value(FrameColumn.LOSS, 1)) && read.isPresent(FrameColumn.LOSS, 1), "a NaN loss is a value");
        assertNull(read.valueOrNull(FrameColumn.SG_COS_PREV, 2), "a missing value stays missing");
        assertTrue(read.isPresent(FrameColumn.SG_COS_PREV, 1), "a NaN cosine is present, not missing");
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(read.value(FrameColumn.MINIBATCH_LOSS, 2)));
        assertEquals(1_000_000, read.value(FrameColumn.BATCH_SIZE, 2));
        assertEquals(false, read.has(FrameColumn.GRAD_NORM_SQ), "a column nobody computed stays absent");
    }

    @Test
    void avrosOwnReaderReadsTheFramesWeWrite() throws Exception {
        Frame frame = sampleFrame();
        byte[] bytes = serde.serialize(Topics.ITERATIONS, frame);

        IterationFrame decoded = new BinaryMessageDecoder<IterationFrame>(SpecificData.getForClass(IterationFrame.class),
                IterationFrame.getClassSchema()).decode(bytes);

        assertEquals(frame.runIds(), decoded.getRunIds());
        assertEquals(List.of(2.25, Double.NaN, 0.125), decoded.getLoss());
        assertEquals(List.of(5, 5, 1_000_000), decoded.getBatchSize());
        assertEquals(Arrays.asList(-0.25, Double.NaN, null), decoded.getSgCosPrev());
        assertNull(decoded.getGradNormSq());
        assertEquals(frame, Frame.of(decoded));
    }

    @Test
    void weReadTheFramesAvrosOwnWriterWrites() throws Exception {
        IterationFrame record = IterationFrame.newBuilder().setExperimentId("e").setIteration(3).setTimestampMillis(-5L)
                .setRunIds(List.of("e-r1", "e-r2")).setLoss(List.of(1.0, 2.0)).setMinibatchLoss(List.of(0.5, Double.NaN))
                .setStepSize(List.of(0.1, 0.2)).setBatchSize(List.of(-3, 7)).setSgNorm(List.of(9.0, 8.0))
                .setTestAccuracy(Arrays.asList(null, 0.75)).build();
        ByteBuffer buffer = new BinaryMessageEncoder<IterationFrame>(SpecificData.getForClass(IterationFrame.class),
                IterationFrame.getClassSchema()).encode(record);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);

        Frame read = serde.deserialize(Topics.ITERATIONS, bytes);

        assertEquals(Frame.of(record), read);
        assertEquals(-3, read.value(FrameColumn.BATCH_SIZE, 0));
        assertEquals(0.75, read.valueOrNull(FrameColumn.TEST_ACCURACY, 1));
        assertNull(read.valueOrNull(FrameColumn.TEST_ACCURACY, 0));
        assertArrayEquals(bytes, serde.serialize(Topics.ITERATIONS, read), "our writer gives Avro's bytes");
    }

    @Test
    void aPerRunRecordIsReadAsAFrameOfOneRunThatGivesItBack() {
        IterationMetrics metrics = SampleRecords.iterationMetrics();
        Frame frame = serde.deserialize(Topics.ITERATIONS, TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, metrics));

        assertEquals(1, frame.size());
        assertEquals(metrics.getRunId(), frame.key());
        assertEquals(metrics, frame.row(0));
    }

    @Test
    void aFrameOfRecordsGivesTheRecordsBack() {
        List<IterationMetrics> records = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            IterationMetrics metrics = SampleRecords.iterationMetrics();
            metrics.setRunId("gauss10-r000" + i);
            metrics.setLoss(i * 0.5);
            metrics.setTraceM(i % 2 == 0 ? null : 10.0 + i);
            metrics.setSgCosPrev(null);
            records.add(metrics);
        }
        Frame frame = Frame.of(records);

        assertEquals(records, serde.deserialize(Topics.ITERATIONS, serde.serialize(Topics.ITERATIONS, frame)).rows());
        assertEquals(false, frame.has(FrameColumn.SG_COS_PREV));
    }

    @Test
    void corruptFramesAreUnreadableRecordsThatNameTheProblem() {
        byte[] bytes = serde.serialize(Topics.ITERATIONS, sampleFrame());

        UnreadableRecordException truncated = assertThrows(UnreadableRecordException.class,
                () -> serde.decode(Topics.ITERATIONS, 2, 40L, Arrays.copyOf(bytes, bytes.length - 3)));
        assertTrue(truncated.getMessage().contains("partition 2, offset 40"), truncated.getMessage());
        assertTrue(truncated.reason().startsWith("corrupt IterationFrame"), truncated.reason());

        byte[] hugeCount = Arrays.copyOf(bytes, bytes.length);
        int runCount = TelemetrySerde.HEADER_LENGTH + 1 + "gauss10".length() + 1 + 6; // after id, iteration, timestamp
        hugeCount[runCount] = (byte) 0xFE;
        UnreadableRecordException huge = assertThrows(UnreadableRecordException.class,
                () -> serde.decode(Topics.ITERATIONS, 0, 1L, hugeCount));
        assertTrue(huge.reason().contains("corrupt IterationFrame"), huge.reason());

        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertTrue(assertThrows(UnreadableRecordException.class, () -> serde.decode(Topics.ITERATIONS, 0, 1L, longer))
                .reason().contains("left over"));
    }

    @Test
    void otherRecordTypesAreRefused() {
        byte[] started = TelemetrySerdes.runs().serialize(Topics.RUNS, SampleRecords.runStarted());
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class, () -> serde.deserialize(Topics.ITERATIONS, started));
        assertTrue(e.reason().contains("RunStarted"), e.reason());
    }
}
