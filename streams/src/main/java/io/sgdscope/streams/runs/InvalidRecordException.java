package io.sgdscope.streams.runs;

/**
 * A record that decodes but that the apps refuse, e.g. one whose run or experiment id breaks the
 * {@link io.sgdscope.schemas.Ids id rule}. Thrown where the record enters; Kafka Streams hands it to the
 * processing exception handler, which dead-letters the record with this message and goes on.
 */
public final class InvalidRecordException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    /**
     * @param reason a short label for the counter, snake_case, from a fixed set: "invalid_id"
     * @param message one line saying what is wrong
     */
    public InvalidRecordException(String reason, String message) {
        super(message, null, false, false); // no stack trace: the message says it all, and it is cheap
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
