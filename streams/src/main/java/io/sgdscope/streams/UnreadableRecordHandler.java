package io.sgdscope.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.sgdscope.schemas.serde.UnreadableRecordException;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips a record whose bytes cannot be read instead of stopping the app: logs one line, counts it
 * in {@code sgdscope_unreadable_records_total{application,topic}}, and, when
 * {@value StreamsConfig#ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG} is set, hands Kafka Streams a copy
 * for that dead-letter topic (KIP-1034: Streams writes it in the same transaction as the offsets).
 *
 * <p>The copy keeps the original key, value, timestamp and headers and adds the error headers
 * ({@link DeadLetters}). Records that are read but cannot be processed go the same way
 * ({@link FailedRecordHandler}).
 *
 * <p>Kafka Streams makes it from its class name; the registry to count in travels in the config
 * under {@link #METER_REGISTRY_CONFIG} (otherwise Micrometer's global registry is used).
 */
public final class UnreadableRecordHandler implements DeserializationExceptionHandler {

    /** Config key of the {@link MeterRegistry} to count in. */
    public static final String METER_REGISTRY_CONFIG = "sgdscope.meter.registry";

    private static final Logger log = LoggerFactory.getLogger(UnreadableRecordHandler.class);

    private MeterRegistry registry = Metrics.globalRegistry;
    private String deadLetterTopic;
    private String applicationId = "unknown";

    @Override
    public void configure(Map<String, ?> configs) {
        if (configs.get(METER_REGISTRY_CONFIG) instanceof MeterRegistry configured) {
            registry = configured;
        }
        Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = topic == null || topic.toString().isBlank() ? null : topic.toString();
        Object application = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        if (application != null) {
            applicationId = application.toString();
        }
    }

    /** The counter of unreadable records of a topic; registered up front so that it shows 0, not nothing. */
    public static Counter counter(MeterRegistry registry, String applicationId, String topic) {
        return Counter.builder(MeterNames.UNREADABLE_RECORDS)
                .tag(MeterNames.TAG_APPLICATION, applicationId)
                .tag(MeterNames.TAG_TOPIC, topic)
                .description("Records whose bytes could not be read, skipped")
                .register(registry);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        counter(registry, applicationId, record.topic()).increment();
        log.warn("skipped {}{}", describe(record, exception),
                deadLetterTopic == null ? "" : "; a copy goes to " + deadLetterTopic);
        if (deadLetterTopic == null) {
            return Response.resume();
        }
        return Response.resume(List.of(deadLetter(record, exception)));
    }

    private ProducerRecord<byte[], byte[]> deadLetter(ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return DeadLetters.copy(deadLetterTopic, applicationId,
                new DeadLetters.Source(record.topic(), record.partition(), record.offset()),
                record.key(), record.value(), record.timestamp(), record.headers(), exception);
    }

    private static String describe(ConsumerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof UnreadableRecordException unreadable) {
            return unreadable.at(record.partition(), record.offset()).getMessage();
        }
        return "unreadable record on topic " + record.topic() + ", partition " + record.partition()
                + ", offset " + record.offset() + ": " + exception;
    }
}
