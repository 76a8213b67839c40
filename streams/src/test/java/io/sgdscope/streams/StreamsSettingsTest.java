package io.sgdscope.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.schemas.Topics;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsSettingsTest {

    private static final Path STATE = Path.of("target", "state");

    private static StreamsSettings with(String guarantee, Map<String, String> clientProperties) {
        return new StreamsSettings("127.0.0.1:9092", "sgdscope", STATE, "127.0.0.1", 9400, 1, guarantee,
                clientProperties, Duration.ofSeconds(1), Topics.DEAD_LETTERS, 0);
    }

    @Test
    void defaultsAreExactlyOnceV2OnLoopbackPort9400WithTheDeadLetterTopicAndTwoApplicationIds() {
        StreamsSettings settings = StreamsSettings.defaults("127.0.0.1:9092", STATE);
        assertEquals("sgdscope-quantiles", settings.quantilesApplicationId());
        assertEquals("sgdscope-deviation", settings.deviationApplicationId());
        assertEquals("127.0.0.1", settings.metricsHost());
        assertEquals(9400, settings.metricsPort());
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, settings.processingGuarantee());
        assertEquals(Duration.ofMillis(100), settings.commitInterval(), "Kafka's exactly-once default: latency");

        Properties properties = settings.withStandbyReplicas(1).toStreamsProperties(settings.deviationApplicationId());
        assertEquals("sgdscope-deviation", properties.get(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, properties.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals(1, properties.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG));
        assertEquals(Topics.DEAD_LETTERS, properties.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG));
        assertEquals(UnreadableRecordHandler.class, properties.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals(FailedRecordHandler.class, properties.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals(FailedRecordHandler.class, properties.get(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG));
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
        assertEquals("SASL_SSL", secured.toStreamsProperties("x").get("security.protocol"));

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> with(StreamsConfig.AT_LEAST_ONCE, Map.of("application.id", "other")));
        assertEquals("client property application.id is set by the settings themselves; set it there", error.getMessage());
        assertEquals("client property num.standby.replicas is set by the settings themselves; set it there",
                assertThrows(IllegalArgumentException.class,
                        () -> with(StreamsConfig.AT_LEAST_ONCE, Map.of("num.standby.replicas", "2"))).getMessage());
    }

    @Test
    void invalidValuesAreRejectedWithOneLineMessages() {
        StreamsSettings valid = StreamsSettings.defaults("127.0.0.1:9092", STATE);
        assertEquals("metricsPort must be in 0..65535 (0 = any free port), was 70000",
                assertThrows(IllegalArgumentException.class, () -> valid.withMetrics("127.0.0.1", 70_000)).getMessage());
        assertEquals("applicationId must be 1-180 of A-Z a-z 0-9 . _ - (it prefixes topic names), was 'my app'",
                assertThrows(IllegalArgumentException.class, () -> valid.withApplicationId("my app")).getMessage());
        assertEquals("commitInterval must be positive, was PT0S",
                assertThrows(IllegalArgumentException.class, () -> valid.withCommitInterval(Duration.ZERO)).getMessage());
        assertEquals("bootstrapServers is required, e.g. 127.0.0.1:9092",
                assertThrows(IllegalArgumentException.class, () -> StreamsSettings.defaults(" ", STATE)).getMessage());
        assertEquals("standbyReplicas must be in 0..10, was -1",
                assertThrows(IllegalArgumentException.class, () -> valid.withStandbyReplicas(-1)).getMessage());
    }

    @Test
    void quantilesAndDeviationSettingsRejectWhatCannotWork() {
        assertEquals("metrics must include loss: it tells how far the runs got; got [sgNorm]",
                assertThrows(IllegalArgumentException.class,
                        () -> QuantilesSettings.defaults().withMetrics(List.of("sgNorm"))).getMessage());
        assertEquals("'gradNorm' is not a metric sgdscope tracks; choose from " + io.sgdscope.streams.quantiles.TrackedMetric.allNames(),
                assertThrows(IllegalArgumentException.class,
                        () -> QuantilesSettings.defaults().withMetrics(List.of("loss", "gradNorm"))).getMessage());
        assertEquals("delta must be in (0, 1), was 1.5",
                assertThrows(IllegalArgumentException.class,
                        () -> DeviationSettings.defaults().withConfidence(1.5, 1)).getMessage());
        assertEquals("the divergence factor must be a number above 1, was 0.5",
                assertThrows(IllegalArgumentException.class,
                        () -> DeviationSettings.defaults().withDivergenceFactor(0.5)).getMessage());
        assertEquals("the finish wait must be in 0 s (finish at once) .. 1 day, was -1000 ms",
                assertThrows(IllegalArgumentException.class,
                        () -> DeviationSettings.defaults().withFinishWait(java.time.Duration.ofSeconds(-1))).getMessage());
        assertEquals(java.time.Duration.ofMinutes(5), new DeviationSettings(0.01, 1, 100, 0.001, 10, 10).finishWait());
        assertEquals(0.01, DeviationSettings.defaults().delta());
        assertEquals(1.0, DeviationSettings.defaults().c());
    }
}
