package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class SchemaHistoryTest {

    private static final Path HISTORY = Path.of("src/main/resources", SchemaCatalog.HISTORY);

    @Test
    void aRecordWrittenWithAnOlderSchemaIsReadIntoTheCurrentClass() throws IOException {
        Schema v0;
        try (InputStream in = getClass().getResourceAsStream("/io/sgdscope/schemas/history/IterationMetrics/v0.avsc")) {
            v0 = new Schema.Parser().parse(in);
        }
        GenericRecord old = new GenericRecordBuilder(v0)
                .set("runId", "old-run").set("experimentId", "old").set("iteration", 4)
                .set("timestampMillis", 1_700_000_000_000L).set("loss", 1.25).set("minibatchLoss", 0.75)
                .set("stepSize", 0.1).set("batchSize", 5).set("sgNorm", 2.5).set("sgCosPrev", 0.125)
                .build();
        ByteBuffer message = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old);
        byte[] bytes = new byte[message.remaining()];
        message.get(bytes);

        IterationMetrics read = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, bytes);

        assertEquals("old-run", read.getRunId());
        assertEquals(4, read.getIteration());
        assertEquals(1.25, read.getLoss());
        assertEquals(0.125, read.getSgCosPrev());
        assertNull(read.getGradNormSq(), "fields the old writer did not have take their default");
        assertNull(read.getTraceM());
    }

    @Test
    void aSpectrumSnapshotWrittenBeforeTheMatvecCountsIsReadWithNullCounts() throws IOException {
        Schema v3 = new Schema.Parser().parse(HISTORY.resolve("SpectrumSnapshot/v3.avsc").toFile());
        SpectrumSnapshot current = SampleRecords.spectrumSnapshot();
        GenericRecordBuilder builder = new GenericRecordBuilder(v3);
        for (Schema.Field field : v3.getFields()) {
            builder.set(field.name(), current.get(field.name()));
        }
        ByteBuffer message = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v3).encode(builder.build());
        byte[] bytes = new byte[message.remaining()];
        message.get(bytes);

        SpectrumSnapshot read = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, bytes);

        assertEquals(current.getHessianEigenvalues(), read.getHessianEigenvalues());
        assertEquals(current.getProbeSeconds(), read.getProbeSeconds());
        assertNull(read.getHessianMatvecs(), "a v3 writer had no matvec counts");
        assertNull(read.getSecondMomentMatvecs());
        assertNull(read.getPredictionHessianMatvecs());
    }

    @Test
    void everyCurrentSchemaIsFrozenAsItsLatestReleasedVersion() throws IOException {
        for (Class<? extends SpecificRecord> type : SchemaCatalog.recordTypes()) {
            Schema current = SchemaCatalog.currentSchema(type);
            Path latest = latestReleased(type.getSimpleName());
            Schema frozen = new Schema.Parser().parse(latest.toFile());
            assertEquals(SchemaCatalog.fingerprint(current), SchemaCatalog.fingerprint(frozen),
                    type.getSimpleName() + " changed since " + latest + ": release it as a new version file (v<N+1>.avsc, listed in INDEX)");
        }
    }

    @Test
    void everyReleasedVersionIsReadableByTheCurrentReader() {
        List<SchemaCatalog.WriterVersion> versions = SchemaCatalog.defaultCatalog().versions();
        assertTrue(versions.size() >= SchemaCatalog.recordTypes().size() + 1, "the test's older version is known too");
        for (SchemaCatalog.WriterVersion version : versions) {
            Schema reader = SchemaCatalog.currentSchema(version.readerClass());
            SchemaCompatibility.SchemaPairCompatibility result =
                    SchemaCompatibility.checkReaderWriterCompatibility(reader, version.schema());
            assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, result.getType(),
                    version.source() + ": " + result.getDescription());
        }
    }

    @Test
    void everyHistoryFileIsListedInTheIndex() throws IOException {
        List<String> index = Files.readAllLines(HISTORY.resolve("INDEX"));
        try (Stream<Path> files = Files.walk(HISTORY)) {
            files.filter(p -> p.toString().endsWith(".avsc")).forEach(p -> {
                String entry = HISTORY.relativize(p).toString();
                assertTrue(index.contains(entry), entry + " is not listed in " + HISTORY.resolve("INDEX"));
            });
        }
        assertFalse(index.isEmpty());
    }

    private static Path latestReleased(String recordName) throws IOException {
        try (Stream<Path> files = Files.list(HISTORY.resolve(recordName))) {
            return files.filter(p -> p.getFileName().toString().matches("v\\d+\\.avsc"))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().replaceAll("\\D", ""))))
                    .orElseThrow(() -> new AssertionError("no released version of " + recordName));
        }
    }
}
