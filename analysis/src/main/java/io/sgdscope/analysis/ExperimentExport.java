package io.sgdscope.analysis;

import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.UnreadableRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongConsumer;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Writes one experiment's records from the kept topics to CSV files, one per record type:
 * {@code runs_started.csv}, {@code runs_finished.csv}, {@code iterations.csv}, {@code spectra.csv},
 * {@code alerts.csv} (see {@link CsvTable} for the encoding). {@code iterations.csv} has one row per run and
 * iteration whether the trainer published per run or in frames of many runs. Records appear in topic order
 * (partition by partition, offset by offset), so the same topic contents give the same files.
 * Records that cannot be read are skipped and counted.
 */
public final class ExperimentExport {

    /** What an export wrote. */
    public record Result(Map<String, Long> rowsByFile, long unreadable) {

        public long rows() {
            return rowsByFile.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The experiment has no record on the topics. */
    public static final class ExperimentNotFoundException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ExperimentNotFoundException(String message) {
            super(message);
        }
    }

    /** The kept topics, in the order they are read. */
    private static final List<String> TOPICS = List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA, Topics.ALERTS);

    private final Map<String, Object> clientConfig;

    public ExperimentExport(Map<String, Object> clientConfig) {
        this.clientConfig = Map.copyOf(clientConfig);
    }

    /**
     * @param progress called now and then with the number of records read so far (all experiments)
     * @throws ExperimentNotFoundException when no record of the experiment exists (naming those that do)
     */
    public Result export(String experimentId, Path outputDir, LongConsumer progress) throws IOException {
        Files.createDirectories(outputDir);
        Map<Class<?>, Output> outputs = new LinkedHashMap<>();
        outputs.put(RunStarted.class, new Output(outputDir.resolve("runs_started.csv"), RunStarted.getClassSchema()));
        outputs.put(RunFinished.class, new Output(outputDir.resolve("runs_finished.csv"), RunFinished.getClassSchema()));
        outputs.put(IterationMetrics.class, new Output(outputDir.resolve("iterations.csv"), IterationMetrics.getClassSchema()));
        outputs.put(SpectrumSnapshot.class, new Output(outputDir.resolve("spectra.csv"), SpectrumSnapshot.getClassSchema()));
        outputs.put(DeviationAlert.class, new Output(outputDir.resolve("alerts.csv"), DeviationAlert.getClassSchema()));
        TreeSet<String> experimentsSeen = new TreeSet<>();
        long[] read = {0};
        long[] unreadable = {0};
        try (TopicReader reader = new TopicReader(clientConfig)) {
            for (String topic : TOPICS) {
                TopicRecords decoder = TopicRecords.of(topic);
                reader.readAll(topic, record -> {
                    if (++read[0] % 50_000 == 0) {
                        progress.accept(read[0]);
                    }
                    List<? extends SpecificRecord> values;
                    try {
                        values = decoder.decode(record.topic(), record.partition(), record.offset(), record.value());
                    } catch (UnreadableRecordException e) {
                        unreadable[0]++;
                        return;
                    }
                    for (SpecificRecord value : values) {
                        String experiment = String.valueOf(value.get(value.getSchema().getField("experimentId").pos()));
                        experimentsSeen.add(experiment);
                        if (experiment.equals(experimentId)) {
                            outputs.get(value.getClass()).write((SpecificRecordBase) value);
                        }
                    }
                });
            }
        } finally {
            for (Output output : outputs.values()) {
                output.close();
            }
        }
        progress.accept(read[0]);
        Map<String, Long> rows = new LinkedHashMap<>();
        outputs.values().forEach(o -> rows.put(o.file.getFileName().toString(), o.rows));
        if (rows.values().stream().mapToLong(Long::longValue).sum() == 0) {
            for (Output output : outputs.values()) {
                Files.deleteIfExists(output.file);
            }
            throw new ExperimentNotFoundException("no records of experiment '" + experimentId + "' on the topics ("
                    + (experimentsSeen.isEmpty() ? "no experiment at all" : "experiments there: " + String.join(", ", experimentsSeen))
                    + ")");
        }
        return new Result(rows, unreadable[0]);
    }

    /** One CSV file being written. */
    private static final class Output {
        private final Path file;
        private final CsvTable table;
        private final Writer writer;
        private long rows;

        Output(Path file, Schema schema) throws IOException {
            this.file = file;
            this.table = new CsvTable(schema);
            this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            table.writeHeader(writer);
        }

        void write(SpecificRecordBase record) {
            try {
                table.writeRow(record, writer);
                rows++;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
            }
        }

        void close() throws IOException {
            writer.close();
        }
    }
}
