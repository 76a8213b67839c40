package io.sgdscope.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.embedded.junit.KafkaBrokerExtension;
import io.sgdscope.schemas.DatasetSpec;
import io.sgdscope.schemas.IterationMetrics;
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
import org.apache.avro.Schema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
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

    @BeforeAll
    static void fillTopics() throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
            for (String experiment : List.of("A", "B")) {
                for (int run = 0; run < 3; run++) {
                    String runId = experiment + "-r" + run;
                    RunStarted started = runStarted(experiment, runId, run);
                    if (experiment.equals("A")) {
                        STARTS_OF_A.add(started);
                    }
                    producer.send(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(runId),
                            TelemetrySerdes.runs().serialize(Topics.RUNS, started)));
                    for (int t = 0; t < 20; t++) {
                        IterationMetrics metrics = iteration(experiment, runId, run, t);
                        if (experiment.equals("A")) {
                            ITERATIONS_OF_A.add(metrics);
                        }
                        producer.send(new ProducerRecord<>(Topics.ITERATIONS, runId, TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, metrics)));
                    }
                    producer.send(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(runId), TelemetrySerdes.runs().serialize(Topics.RUNS,
                            RunFinished.newBuilder().setRunId(runId).setExperimentId(experiment).setStatus(RunStatus.COMPLETED)
                                    .setIterations(20).setFinishedAtMillis(2L).setDurationSeconds(0.5).setFinalLoss(0.1 / (run + 1))
                                    .setDroppedRecords(0).build())));
                }
            }
            producer.send(new ProducerRecord<>(Topics.ITERATIONS, "A-r0", "garbage".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>(Topics.SPECTRA, "A-r1", TelemetrySerdes.spectra().serialize(Topics.SPECTRA,
                    SpectrumSnapshot.newBuilder().setRunId("A-r1").setExperimentId("A").setIteration(10).setTimestampMillis(3L)
                            .setPrecision("float64").setTopK(2).setHessianEigenvalues(List.of(12.5, Double.NaN))
                            .setHessianResiduals(List.of(1e-9, 2e-9)).setSecondMomentEigenvalues(List.of(3.0, 1.0))
                            .setSecondMomentResiduals(List.of(0.0, 0.0)).setPredictionHessianEigenvalues(List.of(1.0, -0.5))
                            .setPredictionHessianResiduals(List.of(0.0, 0.0)).setPrincipalAngleCosines(List.of(0.99, 0.1))
                            .setHessianLayerLoadings(List.of(List.of(0.25, 0.75), List.of(0.5, 0.5)))
                            .setDavisKahanBounds(List.of(0.1, 0.2, 0.3)).setProbeSeconds(0.01).build())));
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
