package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientSettingsTest {

    @TempDir
    Path dir;

    @Test
    void aPropertiesFileGivesTheClusterAndOverridesTheProducerDefaults() throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "bootstrap.servers=kafka:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                + "compression.type=zstd\n");
        KafkaClientSettings settings = KafkaClientSettings.fromFile(null, file);
        assertEquals("kafka:9093", settings.bootstrapServers());
        Map<String, Object> producer = settings.producerProperties();
        assertEquals("kafka:9093", producer.get("bootstrap.servers"));
        assertEquals("SASL_SSL", producer.get("security.protocol"));
        assertEquals("zstd", producer.get("compression.type"), "the file overrides the default lz4");
        assertEquals("all", producer.get("acks"));
        assertEquals(true, producer.get("enable.idempotence"));
        assertEquals(32L * 1024 * 1024, producer.get("buffer.memory"));
    }

    @Test
    void badInputIsOneLineNamingTheProblem() throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "bootstrap.servers=kafka:9093\nlinger.ms=soon\n");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> KafkaClientSettings.fromFile(null, file));
        assertEquals(file + ": Invalid value soon for configuration linger.ms: Not a number of type LONG", bad.getMessage());

        Files.writeString(file, "bootstrap.servers=kafka:9093\n");
        IllegalArgumentException disagree = assertThrows(IllegalArgumentException.class,
                () -> KafkaClientSettings.fromFile("other:9092", file));
        assertEquals("bootstrap servers other:9092 and bootstrap.servers kafka:9093 in " + file
                + " disagree: give one of them", disagree.getMessage());

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> KafkaClientSettings.fromFile(null, dir.resolve("nope")));
        assertEquals("cannot read Kafka client properties " + dir.resolve("nope") + ": no such file", missing.getMessage());
    }
}
