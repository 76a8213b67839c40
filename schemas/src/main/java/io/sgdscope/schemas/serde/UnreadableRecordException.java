package io.sgdscope.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record's bytes cannot be read as telemetry: corrupt, written with a schema no released version
 * knows, or a record type the topic does not carry. The message names where the record is (topic,
 * and partition and offset when known) so it can be found and skipped; the streams side routes such
 * records to the dead-letter topic.
 */
public final class UnreadableRecordException extends SerializationException {

    private static final long serialVersionUID = 1L;

    private final String topic;
    private final int partition;
    private final long offset;
    private final String reason;

    UnreadableRecordException(String topic, int partition, long offset, String reason, Throwable cause) {
        super(location(topic, partition, offset) + ": " + reason, cause);
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
    }

    /** The same error, now that the record's partition and offset are known. */
    public UnreadableRecordException at(int partition, long offset) {
        return new UnreadableRecordException(topic, partition, offset, reason, getCause());
    }

    public String topic() {
        return topic;
    }

    /** The partition, or -1 when the caller did not know it. */
    public int partition() {
        return partition;
    }

    /** The offset, or -1 when the caller did not know it. */
    public long offset() {
        return offset;
    }

    /** What is wrong with the bytes, without the location. */
    public String reason() {
        return reason;
    }

    private static String location(String topic, int partition, long offset) {
        if (partition < 0) {
            return "unreadable record on topic " + topic + " (partition and offset not known here)";
        }
        return "unreadable record on topic " + topic + ", partition " + partition + ", offset " + offset;
    }
}
