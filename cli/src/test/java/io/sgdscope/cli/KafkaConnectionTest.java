package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.streams.StreamsSettings;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** One reading of --bootstrap-servers and --kafka-config for every command and every client. */
class KafkaConnectionTest {

    private static final Path FILE = Path.of("client.properties");

    @Test
    void bootstrapServersInTheFileAreTheConnectionsWithoutTheOption() {
        KafkaConnection connection = KafkaConnection.of(null, FILE,
                Map.of("bootstrap.servers", "kafka-1:9093,kafka-2:9093", "security.protocol", "SASL_SSL"));
        assertEquals("kafka-1:9093,kafka-2:9093", connection.bootstrapServers());
        assertEquals(Map.of("security.protocol", "SASL_SSL"), connection.clientProperties());
        assertEquals("kafka-1:9093,kafka-2:9093", connection.clientConfig().get("bootstrap.servers"));
        // The streams apps take the file's other properties, as the trainer's clients do.
        StreamsSettings streams = new StreamsOptionsHolder().options.toSettings(connection, Path.of("state"));
        assertEquals("kafka-1:9093,kafka-2:9093", streams.bootstrapServers());
        assertEquals(Map.of("security.protocol", "SASL_SSL"), streams.clientProperties());
    }

    @Test
    void theOptionAndTheFileMustAgreeAndTheDefaultIsLocalhost() {
        assertEquals("kafka:9092", KafkaConnection.of("kafka:9092", FILE, Map.of("bootstrap.servers", "kafka:9092"))
                .bootstrapServers());
        assertEquals("localhost:9092", KafkaConnection.of(null, null, Map.of()).bootstrapServers());
        assertEquals("other:9092", KafkaConnection.of("other:9092", null, Map.of()).bootstrapServers());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KafkaConnection.of("other:9092", FILE, Map.of("bootstrap.servers", "kafka:9092")));
        assertEquals("--bootstrap-servers other:9092 and bootstrap.servers kafka:9092 in --kafka-config client.properties "
                + "disagree: give one of them", e.getMessage());
    }

    @Test
    void aValueTheKafkaClientsRefuseIsABadArgumentInOneLine() {
        assertEquals("--kafka-config client.properties: Invalid value soon for configuration linger.ms: Not a number of "
                + "type LONG", badProperty("linger.ms", "soon"));
        String protocol = badProperty("security.protocol", "SASL_PLAIN");
        assertEquals(1, protocol.lines().count());
        assertEquals(true, protocol.startsWith("--kafka-config client.properties: Invalid value SASL_PLAIN for "
                + "configuration security.protocol"), protocol);
        badProperty("processing.guarantee", "twice");                  // a streams property
        // Names no client defines are left to config providers and plug-ins.
        assertFalse(KafkaConnection.of(null, FILE, Map.of("config.providers.vault.param.path", "/x")).clientProperties()
                .isEmpty());
    }

    private static String badProperty(String name, String value) {
        return assertThrows(IllegalArgumentException.class, () -> KafkaConnection.of(null, FILE, Map.of(name, value)))
                .getMessage();
    }

    /** The streams command's options with their defaults. */
    private static final class StreamsOptionsHolder {
        final StreamsOptions options;

        StreamsOptionsHolder() {
            StreamsCommand command = new StreamsCommand();
            new CommandLine(command).parseArgs();
            options = command.streams;
        }
    }
}
