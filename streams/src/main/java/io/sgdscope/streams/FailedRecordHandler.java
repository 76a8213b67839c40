package io.sgdscope.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.runs.InvalidRecordException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips a record that was read but cannot be processed, instead of stopping the app (which, under
 * exactly-once, would meet the same record again after every restart): logs one line, counts it in
 * {@code sgdscope_failed_records_total{application,topic,reason}}, and, when
 * {@value StreamsConfig#ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG} is set, hands Kafka Streams a copy of
 * the input record for that topic, with the error in its headers ({@link DeadLetters}). Kafka Streams
 * writes the copy in the same transaction as the input offsets: once, even under exactly-once.
 *
 * <p>Two kinds of failure end here:
 * <ul>
 *   <li>an exception in a processor (KIP-1033's processing exception handler): reason {@code invalid_id}
 *       for a record refused where it enters ({@link InvalidRecordException}), {@code processing_error}
 *       for anything else;</li>
 *   <li>a value that cannot be serialized on its way to a repartition topic, store changelog or output
 *       (the serialization half of the production exception handler): reason {@code serialization_error},
 *       e.g. a string over 65,535 bytes in an internal record. Failures to send are left to Kafka's
 *       default (retry what is retriable, otherwise stop).</li>
 * </ul>
 * The copy is of the record the task read (its raw key and value), so a record that failed after a
 * repartition is dead-lettered in the internal format of the repartition topic; its headers name that topic.
 *
 * <p>Kafka Streams makes it from its class name; the registry travels in the config under
 * {@link UnreadableRecordHandler#METER_REGISTRY_CONFIG}.
 */
public final class FailedRecordHandler implements ProcessingExceptionHandler, ProductionExceptionHandler {

    static final String INVALID_ID = "invalid_id";
    static final String PROCESSING_ERROR = "processing_error";
    static final String SERIALIZATION_ERROR = "serialization_error";
    /** Every reason, so that each counter can show 0 from the start. */
    static final List<String> REASONS = List.of(INVALID_ID, PROCESSING_ERROR, SERIALIZATION_ERROR);

    private static final Logger log = LoggerFactory.getLogger(FailedRecordHandler.class);

    private final DefaultProductionExceptionHandler sendFailures = new DefaultProductionExceptionHandler();
    private MeterRegistry registry = Metrics.globalRegistry;
    private String deadLetterTopic;
    private String applicationId = "unknown";

    @Override
    public void configure(Map<String, ?> configs) {
        if (configs.get(UnreadableRecordHandler.METER_REGISTRY_CONFIG) instanceof MeterRegistry configured) {
            registry = configured;
        }
        Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = topic == null || topic.toString().isBlank() ? null : topic.toString();
        Object application = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        if (application != null) {
            applicationId = application.toString();
        }
        sendFailures.configure(configs);
    }

    /** The counter of failed records of an input topic for a reason; registered up front so that it shows 0. */
    public static Counter counter(MeterRegistry registry, String applicationId, String topic, String reason) {
        return Counter.builder(MeterNames.FAILED_RECORDS)
                .tag(MeterNames.TAG_APPLICATION, applicationId)
                .tag(MeterNames.TAG_TOPIC, topic)
                .tag(MeterNames.TAG_REASON, reason)
                .description("Records read but not processed (invalid, or failing in processing), skipped")
                .register(registry);
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        String reason = exception instanceof InvalidRecordException invalid ? invalid.reason() : PROCESSING_ERROR;
        return ProcessingExceptionHandler.Response.resume(skip(context, reason, exception));
    }

    @Override
    public ProductionExceptionHandler.Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record,
                                                                        Exception exception, SerializationExceptionOrigin origin) {
        List<ProducerRecord<byte[], byte[]>> deadLetters = skip(context, SERIALIZATION_ERROR, exception);
        return ProductionExceptionHandler.Response.resume(deadLetters);
    }

    @Override
    public ProductionExceptionHandler.Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                           Exception exception) {
        return sendFailures.handleError(context, record, exception);
    }

    private List<ProducerRecord<byte[], byte[]>> skip(ErrorHandlerContext context, String reason, Exception exception) {
        counter(registry, applicationId, context.topic(), reason).increment();
        log.warn("skipped the record at topic {}, partition {}, offset {} ({}): {}{}", context.topic(), context.partition(),
                context.offset(), reason, exception.getMessage(), deadLetterTopic == null ? "" : "; a copy goes to " + deadLetterTopic);
        if (deadLetterTopic == null) {
            return List.of();
        }
        return List.of(DeadLetters.copy(deadLetterTopic, applicationId,
                new DeadLetters.Source(context.topic(), context.partition(), context.offset()),
                context.sourceRawKey(), context.sourceRawValue(), context.timestamp(), context.headers(), exception));
    }
}
