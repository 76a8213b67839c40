package io.sgdscope.schemas.serde;

import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationFrame;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Every record type of the pipeline and every released version of its schema, by fingerprint.
 *
 * <p>Released versions live as frozen copies of the {@code .avsc} files under
 * {@code io/sgdscope/schemas/history/<Record>/v<N>.avsc}, listed in a file {@code INDEX} beside them.
 * Every {@code INDEX} on the class path counts, so a jar (or a test) can contribute versions. A writer
 * may use any released version; the reader resolves it to the current generated class (Avro schema
 * resolution), so records written by an older trainer stay readable.
 */
public final class SchemaCatalog {

    static final String HISTORY = "io/sgdscope/schemas/history/";

    static {
        // Avro 1.12 instantiates only trusted classes when it reads specific records: trust our generated ones.
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(),
                type -> type.getPackageName().equals("io.sgdscope.schemas")));
    }

    /** The generated class of every record type, by the schema's full name. */
    private static final Map<String, Class<? extends SpecificRecord>> RECORD_CLASSES = recordClasses();

    /** A writer schema known by its fingerprint, and the record class it is read into. */
    public record WriterVersion(long fingerprint, Schema schema, Class<? extends SpecificRecord> readerClass, String source) {}

    private static final SchemaCatalog DEFAULT = load(SchemaCatalog.class.getClassLoader());

    private final Map<Long, WriterVersion> byFingerprint;

    private SchemaCatalog(Map<Long, WriterVersion> byFingerprint) {
        this.byFingerprint = Collections.unmodifiableMap(byFingerprint);
    }

    /** The catalog of the current class path, loaded once. */
    public static SchemaCatalog defaultCatalog() {
        return DEFAULT;
    }

    /** The Avro single-object fingerprint: CRC-64-AVRO of the schema's parsing canonical form. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    public static List<Class<? extends SpecificRecord>> recordTypes() {
        return List.copyOf(RECORD_CLASSES.values());
    }

    public Optional<WriterVersion> find(long fingerprint) {
        return Optional.ofNullable(byFingerprint.get(fingerprint));
    }

    /** All known writer versions, current schemas included. */
    public List<WriterVersion> versions() {
        return List.copyOf(byFingerprint.values());
    }

    /** The released versions read into the given class, in the order they were found (current one included). */
    public List<WriterVersion> versionsOf(Class<? extends SpecificRecord> recordClass) {
        List<WriterVersion> result = new ArrayList<>();
        for (WriterVersion version : byFingerprint.values()) {
            if (version.readerClass().equals(recordClass)) {
                result.add(version);
            }
        }
        return result;
    }

    static SchemaCatalog load(ClassLoader loader) {
        Map<Long, WriterVersion> versions = new LinkedHashMap<>();
        for (Class<? extends SpecificRecord> type : RECORD_CLASSES.values()) {
            Schema current = currentSchema(type);
            versions.put(fingerprint(current), new WriterVersion(fingerprint(current), current, type, "generated class " + type.getName()));
        }
        try {
            Enumeration<URL> indexes = loader.getResources(HISTORY + "INDEX");
            while (indexes.hasMoreElements()) {
                URL index = indexes.nextElement();
                for (String entry : readLines(index)) {
                    URL file = new URL(index, entry);
                    Schema schema = parse(file);
                    Class<? extends SpecificRecord> type = RECORD_CLASSES.get(schema.getFullName());
                    if (type == null) {
                        throw new IllegalStateException("schema history entry " + file + " is " + schema.getFullName()
                                + ", which is not a record type of sgdscope " + RECORD_CLASSES.keySet());
                    }
                    long fp = fingerprint(schema);
                    // A frozen copy of the current schema has the current fingerprint: keep the generated one.
                    versions.putIfAbsent(fp, new WriterVersion(fp, schema, type, file.toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the schema history " + HISTORY + "INDEX", e);
        }
        return new SchemaCatalog(versions);
    }

    static Schema currentSchema(Class<? extends SpecificRecord> type) {
        try {
            return (Schema) type.getField("SCHEMA$").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not a generated Avro class: " + type, e);
        }
    }

    private static List<String> readLines(URL index) throws IOException {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(index.openStream(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String entry = line.strip();
                if (!entry.isEmpty() && !entry.startsWith("#")) {
                    lines.add(entry);
                }
            }
        }
        return lines;
    }

    private static Schema parse(URL file) throws IOException {
        try (InputStream in = file.openStream()) {
            // One parser per file: every version defines the same named types again.
            return new Schema.Parser().parse(in);
        }
    }

    private static Map<String, Class<? extends SpecificRecord>> recordClasses() {
        Map<String, Class<? extends SpecificRecord>> classes = new LinkedHashMap<>();
        for (Class<? extends SpecificRecord> type : List.of(RunStarted.class, RunFinished.class, IterationMetrics.class, IterationFrame.class,
                SpectrumSnapshot.class, QuantileSummary.class, DeviationAlert.class)) {
            classes.put(currentSchema(type).getFullName(), type);
        }
        return Collections.unmodifiableMap(classes);
    }
}
