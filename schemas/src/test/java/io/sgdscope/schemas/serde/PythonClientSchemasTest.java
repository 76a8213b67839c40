package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * The Python client ({@code clients/python/src/sgdscope}) ships copies of the {@code .avsc} files and the
 * single-object fingerprints the Java serde writes and accepts ({@code fingerprints.json}). Python's canonical
 * form can differ from Java's for annotated types, so the fingerprints come from this build
 * ({@link SchemaCatalog#fingerprint}, Avro's {@code SchemaNormalization}), not from Python. This test fails when
 * either is stale and says how to regenerate them:
 * {@code ./mvnw -B -q test -pl schemas -Dtest=PythonClientSchemasTest -Dsgdscope.writePythonSchemas=true}.
 */
class PythonClientSchemasTest {

    static final Path AVRO = Path.of("src/main/avro");
    static final Path PACKAGE = Path.of("../clients/python/src/sgdscope");
    static final String REGENERATE = "./mvnw -B -q test -pl schemas -Dtest=PythonClientSchemasTest "
            + "-Dsgdscope.writePythonSchemas=true";

    @Test
    void thePythonPackageCarriesTheCurrentSchemasAndTheJavaFingerprints() throws IOException {
        boolean write = Boolean.getBoolean("sgdscope.writePythonSchemas");
        String expectedJson = fingerprintsJson();
        Path json = PACKAGE.resolve("fingerprints.json");
        if (write) {
            Files.createDirectories(PACKAGE.resolve("schemas"));
            Files.writeString(json, expectedJson, StandardCharsets.UTF_8);
        }
        assertTrue(Files.isRegularFile(json), json + " is missing; regenerate it with " + REGENERATE);
        assertEquals(expectedJson, Files.readString(json, StandardCharsets.UTF_8),
                json + " is stale (a schema changed); regenerate it with " + REGENERATE);

        List<Path> sources;
        try (Stream<Path> files = Files.list(AVRO)) {
            sources = files.filter(f -> f.toString().endsWith(".avsc")).sorted().toList();
        }
        for (Path source : sources) {
            Path copy = PACKAGE.resolve("schemas").resolve(source.getFileName());
            if (write) {
                Files.copy(source, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertTrue(Files.isRegularFile(copy), copy + " is missing; regenerate it with " + REGENERATE);
            assertEquals(Files.readString(source, StandardCharsets.UTF_8), Files.readString(copy, StandardCharsets.UTF_8),
                    copy + " differs from " + source + "; regenerate it with " + REGENERATE);
        }
        try (Stream<Path> files = Files.list(PACKAGE.resolve("schemas"))) {
            assertEquals(sources.size(), files.filter(f -> f.toString().endsWith(".avsc")).count(),
                    "the package holds exactly the schemas of " + AVRO);
        }
    }

    /** {"RecordName": "16 hex digits", ...}: the long the single-object header carries (little-endian). */
    static String fingerprintsJson() {
        Map<String, String> byName = new TreeMap<>();
        for (Class<? extends SpecificRecord> type : SchemaCatalog.recordTypes()) {
            byName.put(type.getSimpleName(), String.format("%016x", SchemaCatalog.fingerprint(SchemaCatalog.currentSchema(type))));
        }
        StringBuilder out = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, String> entry : byName.entrySet()) {
            out.append("  \"").append(entry.getKey()).append("\": \"").append(entry.getValue()).append('"')
                    .append(++i < byName.size() ? ",\n" : "\n");
        }
        return out.append("}\n").toString();
    }
}
