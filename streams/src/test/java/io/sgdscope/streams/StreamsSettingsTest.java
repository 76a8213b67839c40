package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsSettingsTest {

    private static final Path STATE = Path.of("target", "state");

    private static StreamsSettings with(String guarantee, Map<String, String> clientProperties) {
        return new StreamsSettings("127.0.0.1:9092", "sgdscope-quantiles", STATE, "127.0.0.1", 9400, 1, guarantee,
                clientProperties, Duration.ofSeconds(1), Topics.DEAD_LETTERS);
    }

    @Test
    void defaultsAreExactlyOnceV2OnLoopbackPort9400WithTheDeadLetterTopic() {
        StreamsSettings settings = StreamsSettings.defaults("127.0.0.1:9092", STATE);
        assertEquals("sgdscope-quantiles", settings.applicationId());
        assertEquals("127.0.0.1", settings.metricsHost());
        assertEquals(9400, settings.metricsPort());
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, settings.processingGuarantee());

        Properties properties = settings.toStreamsProperties();
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, properties.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals(Topics.DEAD_LETTERS, properties.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG));
        assertEquals(UnreadableRecordHandler.class, properties.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals(STATE.toAbsolutePath().toString(), properties.get(StreamsConfig.STATE_DIR_CONFIG));
    }

    @Test
    void exactlyOnceV1IsRejectedWithAPointerToV2() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> with("exactly_once", Map.of()));
        assertEquals("processingGuarantee exactly_once was removed in Kafka 4; use exactly_once_v2", error.getMessage());
    }

    @Test
    void securityPropertiesPassThroughButTheSettingsOwnKeysCannotBeOverridden() {
        StreamsSettings secured = with(StreamsConfig.AT_LEAST_ONCE, Map.of("security.protocol", "SASL_SSL"));
        assertEquals("SASL_SSL", secured.toStreamsProperties().get("security.protocol"));

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> with(StreamsConfig.AT_LEAST_ONCE, Map.of("application.id", "other")));
        assertEquals("client property application.id is set by the settings themselves; set it there", error.getMessage());
    }

    @Test
    void invalidValuesAreRejectedWithOneLineMessages() {
        StreamsSettings valid = StreamsSettings.defaults("127.0.0.1:9092", STATE);
        assertEquals("metricsPort must be in 0..65535 (0 = any free port), was 70000",
                assertThrows(IllegalArgumentException.class, () -> valid.withMetrics("127.0.0.1", 70_000)).getMessage());
        assertEquals("applicationId must be 1-200 of A-Z a-z 0-9 . _ - (it prefixes topic names), was 'my app'",
                assertThrows(IllegalArgumentException.class, () -> valid.withApplicationId("my app")).getMessage());
        assertEquals("commitInterval must be positive, was PT0S",
                assertThrows(IllegalArgumentException.class, () -> valid.withCommitInterval(Duration.ZERO)).getMessage());
        assertEquals("bootstrapServers is required, e.g. 127.0.0.1:9092",
                assertThrows(IllegalArgumentException.class, () -> StreamsSettings.defaults(" ", STATE)).getMessage());
    }
}
