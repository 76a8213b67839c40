package io.sgdscope.analysis;

import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.FrameSerde;
import io.sgdscope.schemas.serde.TelemetrySerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.schemas.serde.UnreadableRecordException;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/**
 * How the offline readers (export, report) decode a kept topic's values into records: sgd.iterations holds
 * frames (several runs at one iteration) or per-run records, and both are read as one IterationMetrics per
 * run and iteration ({@link Frame#rows()}), the per-run view the export's rows and the report's series use.
 */
@FunctionalInterface
public interface TopicRecords {

    /**
     * @return the records the value holds (none for a tombstone)
     * @throws UnreadableRecordException if the value cannot be read
     */
    List<? extends SpecificRecord> decode(String topic, int partition, long offset, byte[] value);

    /** The decoder of one of the topics the readers read. */
    static TopicRecords of(String topic) {
        return switch (topic) {
            case Topics.ITERATIONS -> frames(TelemetrySerdes.frames());
            case Topics.RUNS -> single(TelemetrySerdes.runs());
            case Topics.SPECTRA -> single(TelemetrySerdes.spectra());
            case Topics.ALERTS -> single(TelemetrySerdes.alerts());
            case Topics.QUANTILES -> single(TelemetrySerdes.quantiles());
            default -> throw new IllegalArgumentException("no telemetry records on topic " + topic);
        };
    }

    private static TopicRecords frames(FrameSerde serde) {
        return (topic, partition, offset, value) -> {
            Frame frame = serde.decode(topic, partition, offset, value);
            return frame == null ? List.of() : frame.rows();
        };
    }

    private static TopicRecords single(TelemetrySerde<? extends SpecificRecord> serde) {
        return (topic, partition, offset, value) -> {
            SpecificRecord record = serde.decode(topic, partition, offset, value);
            return record == null ? List.of() : List.of(record);
        };
    }
}
