package io.sgdscope.streams;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The copy of a record that goes to the dead-letter topic: the original key, value, timestamp and headers,
 * and the error headers of KIP-1034 ({@code __streams.errors.exception}, {@code .message},
 * {@code .stacktrace}, {@code .topic}, {@code .partition}, {@code .offset}), as Kafka's own handlers add
 * them, and {@code __streams.errors.application.id}: both apps read sgd.iterations, so a bad record there is
 * dead-lettered by each (the header tells the copies apart).
 */
final class DeadLetters {

    static final String HEADER_PREFIX = "__streams.errors.";

    private DeadLetters() {}

    /** Where a record was read. */
    record Source(String topic, int partition, long offset) {}

    static ProducerRecord<byte[], byte[]> copy(String deadLetterTopic, String applicationId, Source source, byte[] key,
                                               byte[] value, long timestamp, Headers originalHeaders, Exception exception) {
        ProducerRecord<byte[], byte[]> copy = new ProducerRecord<>(deadLetterTopic, null, timestamp, key, value);
        Headers headers = copy.headers();
        if (originalHeaders != null) {
            for (Header header : originalHeaders) {
                if (!header.key().startsWith(HEADER_PREFIX)) { // the processing context may carry ours already
                    headers.add(header);
                }
            }
        }
        StringWriter stackTrace = new StringWriter();
        exception.printStackTrace(new PrintWriter(stackTrace));
        header(headers, "exception", exception.getClass().getName());
        header(headers, "message", String.valueOf(exception.getMessage()));
        header(headers, "stacktrace", stackTrace.toString());
        header(headers, "topic", String.valueOf(source.topic()));
        header(headers, "partition", String.valueOf(source.partition()));
        header(headers, "offset", String.valueOf(source.offset()));
        header(headers, "application.id", applicationId);
        return copy;
    }

    private static void header(Headers headers, String name, String value) {
        headers.add(HEADER_PREFIX + name, value.getBytes(StandardCharsets.UTF_8));
    }
}
