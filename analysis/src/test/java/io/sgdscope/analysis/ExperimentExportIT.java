package io.sgdscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.ModelSpec;
import io.sgdscope.schemas.OptimizerSpec;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Export against a real broker: the CSV rows equal the records produced, field for field, double for double. */
class ExperimentExportIT {

    @TempDir
    static Path dir;

    @RegisterExtension
    static final KafkaBrokerExtension broker = KafkaBrokerExtension.withTopics(3, Topics.all(), Topics.Spec::name, Topics.Spec::config);

    private static final List<IterationMetrics> ITERATIONS_OF_A = new ArrayList<>();
    private static final List<RunStarted> STARTS_OF_A = new ArrayList<>();
    private static final List<Future<RecordMetadata>> SENT = new ArrayList<>();

    private static void send(KafkaProducer<String, byte[]> producer, ProducerRecord<String, byte[]> record) {
        SENT.add(producer.send(record));
    }

    @BeforeAll
    static void fillTopics() throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                // One request in flight and a long request timeout: on a loaded machine a timed-out request retried
                // next to later ones ended in OutOfOrderSequenceException and a silently missing batch.
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 120_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000), new StringSerializer(), new ByteArraySerializer())) {
            // Experiment A is published as a trainer of blocks does it (one frame of all runs per iteration),
            // B per run: the export gives one row per run and iteration either way.
            for (String experiment : List.of("A", "B")) {
                boolean frames = experiment.equals("A");
                List<List<IterationMetrics>> byIteration = new ArrayList<>();
                for (int t = 0; t < 20; t++) {
                    byIteration.add(new ArrayList<>());
                }
                for (int run = 0; run < 3; run++) {
                    String runId = experiment + "-r" + run;
                    RunStarted started = runStarted(experiment, runId, run);
                    if (frames) {
                        started.setFrameKey(experiment + "-r0");
                        STARTS_OF_A.add(started);
                    }
                    send(producer, new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId),
                            TelemetrySerdes.runs().serialize(Topics.RUNS, started)));
                    for (int t = 0; t < 20; t++) {
                        IterationMetrics metrics = iteration(experiment, runId, run, t);
                        byIteration.get(t).add(metrics);
                        if (frames) {
                            ITERATIONS_OF_A.add(metrics);
                        } else {
                            send(producer, new ProducerRecord<>(Topics.ITERATIONS, runId,
                                    TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, metrics)));
                        }
                    }
                }
                for (List<IterationMetrics> oneIteration : byIteration) {
                    if (frames) {
                        Frame frame = Frame.of(oneIteration);
                        send(producer, new ProducerRecord<>(Topics.ITERATIONS, frame.key(),
                                TelemetrySerdes.frames().serialize(Topics.ITERATIONS, frame)));
                    }
                }
                for (int run = 0; run < 3; run++) {
                    String runId = experiment + "-r" + run;
                    send(producer, new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                            RunFinished.newBuilder().setRunId(runId).setExperimentId(experiment).setStatus(RunStatus.COMPLETED)
                                    .setIterations(20).setFinishedAtMillis(2L).setDurationSeconds(0.5).setFinalLoss(0.1 / (run + 1))
                                    .setDroppedRecords(0).setFrameKey(frames ? experiment + "-r0" : null).build())));
                }
            }
            send(producer, new ProducerRecord<>(Topics.ITERATIONS, "A-r0", "garbage".getBytes(StandardCharsets.UTF_8)));
            send(producer, new ProducerRecord<>(Topics.SPECTRA, "A-r1", TelemetrySerdes.spectra().serialize(Topics.SPECTRA,
                    SpectrumSnapshot.newBuilder().setRunId("A-r1").setExperimentId("A").setIteration(10).setTimestampMillis(3L)
                            .setPrecision("float64").setTopK(2).setHessianEigenvalues(List.of(12.5, Double.NaN))
                            .setHessianResiduals(List.of(1e-9, 2e-9)).setSecondMomentEigenvalues(List.of(3.0, 1.0))
                            .setSecondMomentResiduals(List.of(0.0, 0.0)).setPredictionHessianEigenvalues(List.of(1.0, -0.5))
                            .setPredictionHessianResiduals(List.of(0.0, 0.0)).setPrincipalAngleCosines(List.of(0.99, 0.1))
                            .setHessianLayerLoadings(List.of(List.of(0.25, 0.75), List.of(0.5, 0.5)))
                            .setDavisKahanBounds(List.of(0.1, 0.2, 0.3)).setProbeSeconds(0.01).build())));
            producer.flush();
            for (Future<RecordMetadata> delivery : SENT) {
                delivery.get();                                                       // every record is on the broker
            }
        }
    }

    @Test
    void theIterationRowsEqualTheRecordsFieldForFieldAndDoubleForDouble() throws Exception {
        Path out = dir.resolve("export-a");
        ExperimentExport.Result result = new ExperimentExport(config()).export("A", out, n -> { });
        assertEquals(60L, result.rowsByFile().get("iterations.csv"));
        assertEquals(3L, result.rowsByFile().get("runs_started.csv"));
        assertEquals(3L, result.rowsByFile().get("runs_finished.csv"));
        assertEquals(1L, result.rowsByFile().get("spectra.csv"));
        assertEquals(0L, result.rowsByFile().get("alerts.csv"));
        assertEquals(1, result.unreadable(), "the garbage record is skipped and counted");

        List<List<String>> rows = Csv.parse(Files.readString(out.resolve("iterations.csv")));
        List<String> header = rows.get(0);
        assertEquals(fieldNames(IterationMetrics.getClassSchema()), header);
        Map<String, IterationMetrics> expected = new HashMap<>();
        ITERATIONS_OF_A.forEach(m -> expected.put(m.getRunId() + "/" + m.getIteration(), m));
        for (List<String> row : rows.subList(1, rows.size())) {
            IterationMetrics record = expected.remove(row.get(header.indexOf("runId")) + "/" + row.get(header.indexOf("iteration")));
            for (Schema.Field field : IterationMetrics.getClassSchema().getFields()) {
                Object value = record.get(field.pos());
                String cell = row.get(header.indexOf(field.name()));
                if (value == null) {
                    assertEquals("", cell, field.name());
                } else if (value instanceof Double d) {
                    assertEquals(Double.doubleToLongBits(d), Double.doubleToLongBits(parseDouble(cell)), field.name() + ": " + cell);
                } else {
                    assertEquals(String.valueOf(value), cell, field.name());
                }
            }
        }
        assertTrue(expected.isEmpty(), "every record has its row");
    }

    @Test
    void nestedRecordsBecomeDottedColumnsAndMapsAndArraysJsonCells() throws Exception {
        Path out = dir.resolve("export-nested");
        new ExperimentExport(config()).export("A", out, n -> { });
        List<List<String>> started = Csv.parse(Files.readString(out.resolve("runs_started.csv")));
        List<String> header = started.get(0);
        assertTrue(header.contains("dataset.randomLabelFraction") && header.contains("model.layers") && header.contains("optimizer.batchSize"));
        List<String> first = started.get(1);
        assertEquals("[50, 10, 30, 10]", first.get(header.indexOf("model.layers")));
        assertEquals("{\"a,b\": \"x\\\"y\", \"lr\": \"0.1\"}", first.get(header.indexOf("settings")));

        List<List<String>> spectra = Csv.parse(Files.readString(out.resolve("spectra.csv")));
        List<String> spectraHeader = spectra.get(0);
        assertEquals("[12.5, NaN]", spectra.get(1).get(spectraHeader.indexOf("hessianEigenvalues")));
        assertEquals("[[0.25, 0.75], [0.5, 0.5]]", spectra.get(1).get(spectraHeader.indexOf("hessianLayerLoadings")));
        assertEquals("", spectra.get(1).get(spectraHeader.indexOf("hessianFullSpectrum")));
    }

    @Test
    void pythonsCsvAndJsonModulesReadTheFilesWithoutHelp() throws Exception {
        Path out = dir.resolve("export-python");
        new ExperimentExport(config()).export("A", out, n -> { });
        String script = String.join("\n",
                "import csv, json, math, sys",
                "rows = list(csv.DictReader(open(sys.argv[1] + '/iterations.csv')))",
                "spectra = list(csv.DictReader(open(sys.argv[1] + '/spectra.csv')))",
                "started = list(csv.DictReader(open(sys.argv[1] + '/runs_started.csv')))",
                "finite = [float(r['loss']) for r in rows if math.isfinite(float(r['loss']))]",
                "print(len(rows), len(finite), sum(finite), json.loads(spectra[0]['hessianEigenvalues'])[0],",
                "      json.loads(started[0]['settings'])['a,b'])");
        Process python = new ProcessBuilder("/usr/bin/python3", "-c", script, out.toString()).redirectErrorStream(true).start();
        String printed = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, python.waitFor(), printed);
        double sum = ITERATIONS_OF_A.stream().mapToDouble(IterationMetrics::getLoss).filter(Double::isFinite).sum();
        String[] parts = printed.split(" ");
        assertEquals("60", parts[0]);
        assertEquals("59", parts[1], "python reads 'inf' as infinity");
        assertEquals(sum, Double.parseDouble(parts[2]), 1e-12 * Math.abs(sum));
        assertEquals("12.5", parts[3]);
        assertEquals("x\"y", parts[4]);
    }

    /**
     * README.md's pandas example, taken from README.md and run as it stands (python3-pandas; .ci/run installs
     * it) on an export in a folder named as in the README, then asked what it read.
     */
    @Test
    void pandasReadsTheFilesAsTheReadmeShows() throws Exception {
        Path work = dir.resolve("readme-pandas");
        new ExperimentExport(config()).export("A", work.resolve("g10-csv"), n -> { });
        List<String> doubles = doubleFields(IterationMetrics.getClassSchema());
        String questions = String.join("\n",
                "import sys",
                "print('rows', len(iterations), len(finished), len(spectra), sep='\\t')",
                "for name, table in (('iterations', iterations), ('finished', finished)):",
                "    for column, dtype in table.dtypes.items():",
                "        print('dtype ' + name + '.' + column, dtype, sep='\\t')",
                "for _, row in iterations.iterrows():",
                "    print('row ' + row['runId'] + '/' + str(row['iteration']), *[float(row[c]).hex() for c in sys.argv[1:]], sep='\\t')",
                "print('eigenvalues', *[float(v).hex() for v in spectra['hessianEigenvalues'][0]], sep='\\t')",
                "print('fullSpectrumMissing', spectra['hessianFullSpectrum'].isna().all(), sep='\\t')",
                "for t, loss in median_loss.items():",
                "    print('median ' + str(t), float(loss).hex(), sep='\\t')");
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-c", readmePython() + "\n" + questions));
        command.addAll(doubles);
        Process python = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
        String printed = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, python.waitFor(), "the README's pandas example (is python3-pandas installed?):\n" + printed);
        Map<String, List<String>> answers = answers(printed);

        assertEquals(List.of(String.valueOf(ITERATIONS_OF_A.size()), String.valueOf(STARTS_OF_A.size()), "1"), answers.get("rows"),
                "rows of iterations, finished (one per run), spectra");
        for (String field : doubles) {
            assertEquals(List.of("float64"), answers.get("dtype iterations." + field), field);
        }
        for (String field : doubleFields(RunFinished.getClassSchema())) {
            assertEquals(List.of("float64"), answers.get("dtype finished." + field), field);
        }
        // Every double as published: NaN and infinities as themselves, an empty cell (null) as NaN.
        for (IterationMetrics record : ITERATIONS_OF_A) {
            List<String> row = answers.get("row " + record.getRunId() + "/" + record.getIteration());
            for (int i = 0; i < doubles.size(); i++) {
                Double value = (Double) record.get(doubles.get(i));
                double expected = value == null ? Double.NaN : value;
                assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(fromPythonHex(row.get(i))),
                        record.getRunId() + "/" + record.getIteration() + " " + doubles.get(i) + ": " + row.get(i));
            }
        }
        // The JSON cell as published in fillTopics: [12.5, NaN]; a missing array is an empty cell, NaN.
        List<String> eigenvalues = answers.get("eigenvalues");
        assertEquals(2, eigenvalues.size());
        assertEquals(12.5, fromPythonHex(eigenvalues.get(0)));
        assertTrue(Double.isNaN(fromPythonHex(eigenvalues.get(1))));
        assertEquals(List.of("True"), answers.get("fullSpectrumMissing"));
        // The median across the three runs; at t = 7 one run's loss is +inf and the median the middle finite one.
        for (int t = 0; t < 20; t++) {
            int iteration = t;
            double[] losses = ITERATIONS_OF_A.stream().filter(m -> m.getIteration() == iteration).mapToDouble(IterationMetrics::getLoss)
                    .sorted().toArray();
            assertEquals(losses[1], fromPythonHex(answers.get("median " + t).get(0)), "median loss at t = " + t);
        }
    }

    /** R's read.csv without options (r-base-core; .ci/run installs it), as the README says. */
    @Test
    void rReadsTheFilesWithoutOptions() throws Exception {
        Path out = dir.resolve("export-r");
        new ExperimentExport(config()).export("A", out, n -> { });
        List<String> doubles = doubleFields(IterationMetrics.getClassSchema());
        String script = String.join("\n",
                "columns <- commandArgs(trailingOnly = TRUE)",
                "iterations <- read.csv('iterations.csv')",
                "started <- read.csv('runs_started.csv')",
                "spectra <- read.csv('spectra.csv')",
                "cat('rows', nrow(iterations), nrow(started), nrow(spectra), sep = '\\t'); cat('\\n')",
                "for (column in columns) { cat(paste0('class ', column), class(iterations[[column]]), sep = '\\t'); cat('\\n') }",
                "for (i in seq_len(nrow(iterations))) {",
                "  cat(paste0('row ', iterations$runId[i], '/', iterations$iteration[i]),",
                "      sapply(columns, function(column) sprintf('%a', iterations[[column]][i])), sep = '\\t'); cat('\\n')",
                "}",
                "cat('settings', started$settings[1], sep = '\\t'); cat('\\n')",
                "cat('eigenvalues', spectra$hessianEigenvalues[1], sep = '\\t'); cat('\\n')");
        List<String> command = new ArrayList<>(List.of("/usr/bin/Rscript", "-e", script));
        command.addAll(doubles);
        Process r;
        try {
            r = new ProcessBuilder(command).directory(out.toFile()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("/usr/bin/Rscript is missing: install Debian's r-base-core package (.ci/run does)", e);
        }
        String printed = new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, r.waitFor(), printed);
        Map<String, List<String>> answers = answers(printed);

        assertEquals(List.of(String.valueOf(ITERATIONS_OF_A.size()), String.valueOf(STARTS_OF_A.size()), "1"), answers.get("rows"),
                "rows of iterations, runs_started, spectra");
        // A column with a value is numeric; one empty in every row (a quantity not computed in this
        // experiment) holds only NA, which R types as logical: it has nothing to tell it otherwise.
        for (String field : doubles) {
            boolean empty = ITERATIONS_OF_A.stream().allMatch(m -> m.get(field) == null);
            assertEquals(List.of(empty ? "logical" : "numeric"), answers.get("class " + field), field);
        }
        // R tells a published NaN (NaN) from a missing value (NA, the empty cell); every other double as published.
        for (IterationMetrics record : ITERATIONS_OF_A) {
            List<String> row = answers.get("row " + record.getRunId() + "/" + record.getIteration());
            for (int i = 0; i < doubles.size(); i++) {
                Double value = (Double) record.get(doubles.get(i));
                String where = record.getRunId() + "/" + record.getIteration() + " " + doubles.get(i);
                if (value == null) {
                    assertEquals("NA", row.get(i), where);
                } else if (Double.isNaN(value)) {
                    assertEquals("NaN", row.get(i), where);
                } else if (Double.isInfinite(value)) {
                    assertEquals(value > 0 ? "Inf" : "-Inf", row.get(i), where);
                } else {
                    assertEquals(Double.doubleToLongBits(value), Double.doubleToLongBits(Double.parseDouble(row.get(i))),
                            where + ": " + row.get(i));
                }
            }
        }
        // Maps and arrays stay JSON text, quotes and commas included.
        assertEquals(List.of("{\"a,b\": \"x\\\"y\", \"lr\": \"0.1\"}"), answers.get("settings"));
        assertEquals(List.of("[12.5, NaN]"), answers.get("eigenvalues"));
    }

    @Test
    void theSameTopicsGiveTheSameFiles() throws Exception {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        new ExperimentExport(config()).export("A", first, n -> { });
        new ExperimentExport(config()).export("A", second, n -> { });
        for (String file : List.of("runs_started.csv", "runs_finished.csv", "iterations.csv", "spectra.csv", "alerts.csv")) {
            assertArrayEquals(Files.readAllBytes(first.resolve(file)), Files.readAllBytes(second.resolve(file)), file);
        }
    }

    @Test
    void aMissingExperimentIsAClearErrorNamingThoseThere() {
        ExperimentExport.ExperimentNotFoundException e = assertThrows(ExperimentExport.ExperimentNotFoundException.class,
                () -> new ExperimentExport(config()).export("C", dir.resolve("export-c"), n -> { }));
        assertEquals("no records of experiment 'C' on the topics (experiments there: A, B)", e.getMessage());
        assertTrue(Files.notExists(dir.resolve("export-c").resolve("iterations.csv")), "no empty files are left behind");
    }

    private static Map<String, Object> config() {
        return Map.of("bootstrap.servers", broker.bootstrapServers());
    }

    private static double parseDouble(String cell) {
        return switch (cell) {
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(cell);
        };
    }

    private static List<String> fieldNames(Schema schema) {
        List<String> names = new ArrayList<>();
        schema.getFields().forEach(f -> names.add(f.name()));
        return names;
    }

    /** Fields of a record schema holding a double (or null). */
    private static List<String> doubleFields(Schema schema) {
        List<String> names = new ArrayList<>();
        for (Schema.Field field : schema.getFields()) {
            Schema type = field.schema();
            boolean isDouble = type.getType() == Schema.Type.DOUBLE || type.getType() == Schema.Type.UNION
                    && type.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.DOUBLE);
            if (isDouble) {
                names.add(field.name());
            }
        }
        return names;
    }

    /** Lines "question TAB answer TAB ..." as printed by a script: the answers by question. */
    private static Map<String, List<String>> answers(String printed) {
        Map<String, List<String>> answers = new HashMap<>();
        printed.lines().map(line -> line.split("\t")).forEach(f -> answers.put(f[0], List.of(f).subList(1, f.length)));
        return answers;
    }

    /** A double as Python's float.hex() prints it. */
    private static double fromPythonHex(String hex) {
        return switch (hex) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(hex);
        };
    }

    /** The fenced Python block of README.md's export bullet, as a user copies it. */
    private static String readmePython() throws java.io.IOException {
        List<String> lines = Files.readAllLines(Path.of("..").toAbsolutePath().normalize().resolve("README.md"));
        int bullet = 0;
        while (bullet < lines.size() && !lines.get(bullet).startsWith("- `export` writes")) {
            bullet++;
        }
        int start = bullet;
        while (start < lines.size() && !lines.get(start).strip().equals("```python")) {
            start++;
        }
        assertTrue(start < lines.size(), "README.md: no ```python block after the export bullet");
        StringBuilder code = new StringBuilder();
        for (int i = start + 1; !lines.get(i).strip().equals("```"); i++) {
            code.append(lines.get(i).replaceFirst("^  ", "")).append('\n');
        }
        return code.toString();
    }

    private static RunStarted runStarted(String experiment, String runId, int run) {
        return RunStarted.newBuilder().setRunId(runId).setExperimentId(experiment).setRunIndex(run).setSeed(run)
                .setStartedAtMillis(1L).setPlannedIterations(20)
                .setDataset(DatasetSpec.newBuilder().setName("gauss-k").setSamples(100).setInputDimension(50).setClasses(10)
                        .setRandomLabelFraction(0.15).setStandardized(true).setSeed(1L).build())
                .setModel(ModelSpec.newBuilder().setLayers(List.of(50, 10, 30, 10)).setActivation("relu")
                        .setLoss("softmax_cross_entropy").setParameterCount(1150).setInitialization("he-normal").build())
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(0.1).setBatchSize(5)
                        .setSampling("with-replacement").build())
                .setPrecision("float64").setBackend("CPU").setVersions(Map.of("sgdscope", "test"))
                .setSettings(Map.of("lr", "0.1", "a,b", "x\"y")).build();
    }

    /** Awkward doubles on purpose: 0.1 + 0.2, tiny and huge values, non-finite ones, nulls. */
    private static IterationMetrics iteration(String experiment, String runId, int run, int t) {
        double loss = t == 7 && run == 1 ? Double.POSITIVE_INFINITY : (0.1 + 0.2) * Math.exp(-t) / (run + 1);
        return IterationMetrics.newBuilder().setRunId(runId).setExperimentId(experiment).setIteration(t)
                .setTimestampMillis(1_000L + t).setLoss(loss).setMinibatchLoss(t == 3 ? Double.NaN : 1e-300 * t)
                .setStepSize(0.1).setBatchSize(5).setSgNorm(1.7976931348623157e308 / (t + 1))
                .setSgCosPrev(t == 0 ? null : Math.cos(t)).setTrainAccuracy(t / 20.0)
                .setGradNormSq(t % 5 == 0 ? 4.9e-324 : null).build();
    }

}
