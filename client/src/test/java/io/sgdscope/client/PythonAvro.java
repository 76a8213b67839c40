package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's python3-avro decoding a single-object encoded message with the project's .avsc file (independent reader). */
final class PythonAvro {

    private static final Path SCRIPT = Path.of("../schemas/src/test/python/decode_single_object.py");
    private static final Path SCHEMAS = Path.of("../schemas/src/main/avro");

    private PythonAvro() {}

    /** The record python decodes from {@code message} with {@code <schema>.avsc}; its fingerprint must match the header's. */
    static JsonNode decode(String schema, byte[] message, Path dir) throws Exception {
        Path bin = Files.createTempFile(dir, schema, ".bin");
        Files.write(bin, message);
        Process process = new ProcessBuilder("/usr/bin/python3", SCRIPT.toString(),
                SCHEMAS.resolve(schema + ".avsc").toString(), bin.toString()).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError("python3-avro could not decode a " + schema + ": " + err);
        }
        JsonNode decoded = new ObjectMapper().readTree(out);
        assertEquals(decoded.get("fingerprint_python").asText(), decoded.get("fingerprint_header").asText(),
                "python computes the same fingerprint from " + schema + ".avsc as the header carries");
        return decoded.get("record");
    }
}
