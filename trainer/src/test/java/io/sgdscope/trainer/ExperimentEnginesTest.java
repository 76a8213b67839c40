package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ensemble engine (blocks of runs in batched products) publishes, run for run, what the per-run
 * engine publishes for the same seeds, in float64 to a relative 1e-9 (every field of RunStarted, IterationMetrics
 * and RunFinished, found by walking their Avro schemas, so a new field is compared without being listed here),
 * and keeps the per-run engine's
 * endings (DIVERGED runs leave the others alone, cancel ends runs CANCELLED).
 */
class ExperimentEnginesTest {

    private static TrainerSettings.Builder settings(int runs, int iterations) {
        return TrainerSettings.builder().experimentId("engines").runs(runs).iterations(iterations).workers(2)
                .curvature(CurvatureSettings.off()).engine(Engine.PER_RUN);        // the reference unless set otherwise
    }

    private static InMemoryTelemetrySink train(TrainerSettings settings) {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Engines.experiment(settings, sink, ExperimentListener.none()).run();
        return sink;
    }

    /**
     * Fields the ensemble engine does not compute: it must publish them as null. None: every field of every record is
     * compared, the moments of Eq. 4-7, L and RunFinished's Corollary 4 terms included (EnsembleSpectraTest compares
     * the spectra and snapshot folders).
     */
    private static final Set<String> PER_RUN_ENGINE_ONLY = Set.of();

    /**
     * Fields only the ensemble engine sets: the key of the frames that carry a run's iterations (the per-run engine
     * publishes IterationMetrics keyed by the run id, and leaves it null). Checked for their values on their own.
     */
    private static final Set<String> ENSEMBLE_ONLY = Set.of("RunStarted.frameKey", "RunFinished.frameKey");

    /** Wall-clock fields: each engine publishes its own time; only their presence is compared. */
    private static final Set<String> WALL_CLOCK = Set.of("RunStarted.startedAtMillis", "IterationMetrics.timestampMillis",
            "IterationMetrics.probeSeconds", "RunFinished.finishedAtMillis", "RunFinished.durationSeconds");

    /**
     * Settings that name the engine itself, and so differ by design; and the snapshot folders' root, which two
     * experiments compared here must not share.
     */
    private static final Set<String> ENGINE_SETTINGS = Set.of("engine", "ensembleBlock", "curvature.snapshotDir");

    /**
     * Compares two records of one schema field by field, walking the schema (nested records too): doubles to a
     * relative 1e-9, everything else exactly, nulls where the other engine has a value fail. Collects, into
     * {@code published}, the fields the per-run record {@code x} has a value for.
     */
    static void assertSameFields(GenericRecord x, GenericRecord y, String at, Set<String> published) {
        Schema schema = x.getSchema();
        for (Schema.Field field : schema.getFields()) {
            String name = schema.getName() + "." + field.name();
            Object a = x.get(field.pos());
            Object b = y.get(field.pos());
            String what = name + " of " + at;
            if (a != null) {
                published.add(name);
            }
            if (PER_RUN_ENGINE_ONLY.contains(name)) {
                assertNull(b, what + ": the ensemble engine does not compute it");
            } else if (ENSEMBLE_ONLY.contains(name)) {
                assertNull(a, what + ": the per-run engine publishes per run, under the run id");
                assertTrue(b != null, what + ": the ensemble engine names the key of its frames");
            } else if (WALL_CLOCK.contains(name)) {
                assertEquals(a == null, b == null, what + " is published by one engine only");
            } else if (a instanceof GenericRecord nested) {
                assertTrue(b instanceof GenericRecord, what + " is published by one engine only");
                assertSameFields(nested, (GenericRecord) b, at, published);
            } else if (a instanceof Double || b instanceof Double) {
                assertRelative((Double) a, (Double) b, what);
            } else if (name.equals("RunStarted.settings")) {
                assertEquals(withoutEngine(a), withoutEngine(b), what);
            } else {
                assertEquals(a, b, what);
            }
        }
    }

    private static Map<?, ?> withoutEngine(Object settings) {
        Map<Object, Object> map = new TreeMap<>((Map<?, ?>) settings);
        map.keySet().removeAll(ENGINE_SETTINGS);
        return map;
    }

    private static void assertRelative(Double expected, Double actual, String what) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, what + " is published by one engine only");
            return;
        }
        if (!Double.isFinite(expected)) {
            assertEquals(expected, actual, what);
            return;
        }
        double tolerance = 1e-9 * Math.max(Math.abs(expected), 1e-12);
        assertTrue(Math.abs(expected - actual) <= tolerance, what + ": per-run " + expected + ", ensemble " + actual
                + " (relative " + Math.abs(expected - actual) / Math.abs(expected) + ")");
    }

    @Test
    void theEnsembleGivesRunForRunTheRecordsOfRunsTrainedOneAtATime() {
        // 7 runs in blocks of 3 (3 + 3 + 1) on 2 workers, with the test set every 10 iterations and the moments and
        // L every 10 (a block probes its runs at once: Gram matrices and Hessian-vector products batched).
        TrainerSettings perRun = settings(7, 200).curvature(CurvatureSettings.off().withMomentsEvery(10)).build();
        TrainerSettings ensemble = perRun.toBuilder().engine(Engine.ENSEMBLE).ensembleBlock(3).build();
        InMemoryTelemetrySink expected = train(perRun);
        InMemoryTelemetrySink actual = train(ensemble);

        Set<String> published = new TreeSet<>();
        for (int r = 0; r < 7; r++) {
            String runId = Experiment.runId("engines", r);
            assertSameFields(expected.started(runId).orElseThrow(), actual.started(runId).orElseThrow(), runId, published);
            String blockKey = Experiment.runId("engines", r / 3 * 3);                   // the block's first run
            assertEquals(blockKey, actual.started(runId).orElseThrow().getFrameKey(), runId);
            assertEquals(blockKey, actual.finished(runId).orElseThrow().getFrameKey(), runId);
            List<IterationMetrics> a = expected.iterations(runId);
            List<IterationMetrics> b = actual.iterations(runId);
            assertEquals(200, a.size());
            assertEquals(a.size(), b.size(), runId);
            for (int t = 0; t < a.size(); t++) {
                assertEquals(t, b.get(t).getIteration());
                assertSameFields(a.get(t), b.get(t), runId + " t = " + t, published);
                assertEquals(t % 10 == 0, b.get(t).getHessianSpectralNorm() != null, "L at t = 0, 10, 20, ...");
                assertEquals(t % 10 == 0, b.get(t).getProbeSeconds() != null, "probe time with the moments");
            }
            RunFinished g = actual.finished(runId).orElseThrow();
            assertSameFields(expected.finished(runId).orElseThrow(), g, runId, published);
            assertEquals(RunStatus.COMPLETED, g.getStatus());
        }
        // Every field of the three schemas that both engines publish was compared with a value in it at least
        // once, so a field that neither engine fills (a new field forgotten in RunRecords) fails here too.
        // (CurvatureTelemetryTest checks what the per-run engine's curvature fields carry.)
        for (Schema schema : List.of(RunStarted.getClassSchema(), IterationMetrics.getClassSchema(),
                RunFinished.getClassSchema())) {
            for (Schema.Field field : schema.getFields()) {
                String name = schema.getName() + "." + field.name();
                // message: null when COMPLETED, as every run here; the shard fields: null when not sharded, as here
                // (ShardedExperimentTest compares both engines' shards).
                boolean optional = Set.of("message", "shardIndex", "shardCount").contains(field.name());
                assertTrue(published.contains(name) || optional || PER_RUN_ENGINE_ONLY.contains(name)
                                || ENSEMBLE_ONLY.contains(name),
                        name + " was null in every record of the per-run engine: nothing compared it");
            }
        }
        assertEquals("ensemble", actual.runsStarted().get(0).getSettings().get("engine"));
        // The ensemble published frames only, one per block and iteration, under the block's key.
        assertEquals(3 * 200, actual.frames().size());
        for (int i = 0; i < actual.frames().size(); i++) {
            Frame frame = actual.frames().get(i);
            String key = actual.frameKeys().get(i);
            int first = Integer.parseInt(key.substring(key.length() - 5));
            List<String> block = new ArrayList<>();
            for (int r = first; r < Math.min(first + 3, 7); r++) {
                block.add(Experiment.runId("engines", r));
            }
            assertEquals(block, frame.runIds(), "frame " + i);
        }
        assertTrue(expected.iterations("engines-r00003").get(199).getLoss() < 0.05, "the runs learn");
    }

    @Test
    void aBlockOfOneRunGivesThePerRunEnginesRecords(@TempDir Path folders) throws java.io.IOException {
        // float64, the test set every 10 iterations, the moments and L every 10, spectra at t = 0, 25, 50 and snapshot
        // folders at t = 15: everything the per-run engine publishes, against blocks of one run each.
        TrainerSettings perRun = settings(2, 60).curvature(CurvatureSettings.off().withMomentsEvery(10)
                .withSpectrumEvery(25).withTopK(5).withSnapshots(List.of(15), folders.resolve("per-run"))).build();
        TrainerSettings blocksOfOne = perRun.toBuilder().engine(Engine.ENSEMBLE).ensembleBlock(1)
                .curvature(perRun.curvature().withSnapshots(List.of(15), folders.resolve("ensemble"))).build();
        assertEquals(io.sgdscope.trainer.model.Precision.FLOAT64, perRun.precision());
        InMemoryTelemetrySink expected = train(perRun);
        InMemoryTelemetrySink actual = train(blocksOfOne);

        Set<String> published = new TreeSet<>();
        for (int r = 0; r < 2; r++) {
            String runId = Experiment.runId("engines", r);
            assertSameFields(expected.started(runId).orElseThrow(), actual.started(runId).orElseThrow(), runId, published);
            assertEquals(runId, actual.started(runId).orElseThrow().getFrameKey(), "a block of one is keyed by its run");
            List<IterationMetrics> a = expected.iterations(runId);
            List<IterationMetrics> b = actual.iterations(runId);
            assertEquals(60, a.size());
            assertEquals(a.size(), b.size(), runId);
            for (int t = 0; t < a.size(); t++) {
                assertSameFields(a.get(t), b.get(t), runId + " t = " + t, published);
            }
            List<io.sgdscope.schemas.SpectrumSnapshot> x = expected.spectra(runId);
            List<io.sgdscope.schemas.SpectrumSnapshot> y = actual.spectra(runId);
            assertEquals(List.of(0, 15, 25, 50), x.stream().map(io.sgdscope.schemas.SpectrumSnapshot::getIteration).toList());
            assertEquals(x.size(), y.size(), runId + ": spectra published");
            Set<String> spectrumFields = new TreeSet<>();
            for (int i = 0; i < x.size(); i++) {
                EnsembleSpectraTest.assertSameFields(x.get(i), y.get(i), x.get(i), runId + " t = " + x.get(i).getIteration(),
                        spectrumFields, runId);
            }
            assertTrue(spectrumFields.contains("SpectrumSnapshot.hessianEigenvalues"), spectrumFields.toString());
            assertSameFields(expected.finished(runId).orElseThrow(), actual.finished(runId).orElseThrow(), runId, published);
            assertTrue(actual.finished(runId).orElseThrow().getGeneralizationBound() != null, runId + ": Corollary 4 terms");
            EnsembleSpectraTest.assertSameFolder(
                    io.sgdscope.trainer.snapshot.SnapshotWriter.folder(perRun.curvature().snapshotDir(), runId, 15),
                    io.sgdscope.trainer.snapshot.SnapshotWriter.folder(blocksOfOne.curvature().snapshotDir(), runId, 15));
        }
        for (Schema schema : List.of(RunStarted.getClassSchema(), IterationMetrics.getClassSchema(),
                RunFinished.getClassSchema())) {
            for (Schema.Field field : schema.getFields()) {
                String name = schema.getName() + "." + field.name();
                boolean optional = Set.of("message", "shardIndex", "shardCount").contains(field.name());
                assertTrue(published.contains(name) || optional || ENSEMBLE_ONLY.contains(name),
                        name + " was null in every record of the per-run engine: nothing compared it");
            }
        }
        // One frame of one run per run and iteration, under the run's own id.
        assertEquals(2 * 60, actual.frames().size());
        for (int i = 0; i < actual.frames().size(); i++) {
            assertEquals(List.of(actual.frameKeys().get(i)), actual.frames().get(i).runIds(), "frame " + i);
        }
    }

    @Test
    void divergingRunsEndDivergedAsTheyDoOneAtATimeAndTheOthersCarryOn() {
        // eta = 1e8 blows most runs up within a few steps; the runs whose units all die stay finite.
        TrainerSettings perRun = settings(12, 60).learningRate(1e8).build();
        InMemoryTelemetrySink expected = train(perRun);
        // Blocks of 2, so that some block's first run diverges while the second goes on.
        InMemoryTelemetrySink actual = train(perRun.toBuilder().engine(Engine.ENSEMBLE).ensembleBlock(2).build());
        int diverged = 0;
        int completed = 0;
        for (int r = 0; r < 12; r++) {
            String runId = Experiment.runId("engines", r);
            RunFinished f = expected.finished(runId).orElseThrow();
            RunFinished g = actual.finished(runId).orElseThrow();
            assertEquals(f.getStatus(), g.getStatus(), runId);
            assertEquals(f.getIterations(), g.getIterations(), runId);
            // Corollary 4 at the last theta (theta_t of a run that diverged at t) whenever the final loss is finite.
            assertRelative(f.getFinalLoss(), g.getFinalLoss(), runId + " final loss");
            assertRelative(f.getEffectiveCurvature(), g.getEffectiveCurvature(), runId + " effective curvature");
            assertRelative(f.getWeightedFrobenius(), g.getWeightedFrobenius(), runId + " weighted Frobenius");
            assertRelative(f.getGeneralizationBound(), g.getGeneralizationBound(), runId + " bound");
            assertEquals(g.getIterations(), actual.iterations(runId).size(), runId + ": one record per iteration");
            diverged += g.getStatus() == RunStatus.DIVERGED ? 1 : 0;
            completed += g.getStatus() == RunStatus.COMPLETED ? 1 : 0;
        }
        assertTrue(diverged >= 1 && completed >= 1, diverged + " diverged, " + completed + " completed");
        // Frames: each run is in the frames of exactly its published iterations, a diverged one in none after its
        // end; every frame of a block goes out under the block's key (its first run's, even once that run ended),
        // which is the frameKey its runs' RunStarted and RunFinished name.
        Map<String, Integer> frames = new TreeMap<>();
        for (int i = 0; i < actual.frames().size(); i++) {
            Frame frame = actual.frames().get(i);
            String key = actual.frameKeys().get(i);
            for (int run = 0; run < frame.size(); run++) {
                String runId = frame.runId(run);
                assertEquals(key, actual.started(runId).orElseThrow().getFrameKey(), runId);
                assertEquals(key, actual.finished(runId).orElseThrow().getFrameKey(), runId);
                assertEquals(frames.getOrDefault(runId, 0), frame.iteration(), runId + ": its iterations in order, once");
                frames.merge(runId, 1, Integer::sum);
            }
        }
        for (RunFinished finished : actual.runsFinished()) {
            assertEquals(finished.getIterations(), frames.getOrDefault(finished.getRunId(), 0), finished.getRunId());
        }
        List<Frame> all = actual.frames();
        assertTrue(java.util.stream.IntStream.range(0, all.size())
                        .anyMatch(i -> !all.get(i).runIds().contains(actual.frameKeys().get(i))),
                "some frame left its block's first run out (it ended) and kept the block's key");
    }

    @Test
    void cancelEndsEveryUnfinishedRunCancelledWithARunFinished() {
        TrainerSettings settings = settings(6, 400).engine(Engine.ENSEMBLE).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Experiment[] experiment = new Experiment[1];
        AtomicInteger records = new AtomicInteger();
        AtomicInteger started = new AtomicInteger();
        experiment[0] = Engines.experiment(settings, sink, new ExperimentListener() {
            @Override
            public void runStarted(RunStarted record) {
                started.incrementAndGet();
            }

            @Override
            public void iterationDone(IterationMetrics record) {
                // Once both blocks (2 workers, 3 runs each) started: a block not started by then never starts.
                if (records.incrementAndGet() >= 60 && started.get() == 6) {
                    experiment[0].cancel();
                }
            }
        });
        ExperimentResult result = experiment[0].run();
        assertEquals(6, sink.runsFinished().size());
        for (RunFinished finished : sink.runsFinished()) {
            assertEquals(RunStatus.CANCELLED, finished.getStatus());
            assertEquals(sink.iterations(finished.getRunId()).size(), finished.getIterations());
            assertTrue(finished.getIterations() < 400);
        }
        assertEquals(6, result.count(RunStatus.CANCELLED));
    }

    @Test
    void aFailureInsideABlockEndsItsRunsAsFailedAndTheOtherBlocksComplete() {
        // Blocks of 2: runs 0-1 and 2-3. The listener fails on run 2's iteration 5.
        TrainerSettings settings = settings(4, 30).engine(Engine.ENSEMBLE).ensembleBlock(2).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = Engines.experiment(settings, sink, new ExperimentListener() {
            @Override
            public void iterationDone(IterationMetrics record) {
                if (record.getRunId().equals("engines-r00002") && record.getIteration() == 5) {
                    throw new IllegalStateException("listener broke");
                }
            }
        }).run();
        for (int r = 0; r < 4; r++) {
            RunFinished finished = sink.finished(Experiment.runId("engines", r)).orElseThrow();
            if (r < 2) {
                assertEquals(RunStatus.COMPLETED, finished.getStatus());
                assertEquals(30, finished.getIterations());
            } else {
                assertEquals(RunStatus.FAILED, finished.getStatus());
                assertTrue(finished.getMessage().contains("listener broke"), finished.getMessage());
                assertEquals(sink.iterations(finished.getRunId()).size(), finished.getIterations());
            }
        }
        assertEquals(2, result.count(RunStatus.FAILED));
    }

    @Test
    void byDefaultTheRunsOfAWorkerAdvanceInLockstep() {
        // One worker, automatic blocks: all 5 runs in one block, so iteration t of every run comes before t + 1 of any.
        InMemoryTelemetrySink sink = train(settings(5, 20).workers(1).engine(Engine.ENSEMBLE).build());
        List<IterationMetrics> records = sink.iterations();
        assertEquals(100, records.size());
        for (int i = 0; i < records.size(); i++) {
            assertEquals(i / 5, records.get(i).getIteration(), "record " + i + " of " + records.get(i).getRunId());
        }
    }

    @Test
    void automaticBlocksSplitTheRunsAcrossWorkersWithinTheMemoryBound() {
        io.sgdscope.trainer.data.Dataset gauss = io.sgdscope.trainer.data.GaussK.generate(
                io.sgdscope.trainer.data.GaussKSettings.GAUSS_10);
        TrainerSettings tenThousand = settings(10_000, 400).engine(Engine.ENSEMBLE).build();
        long gib = EnsembleBlock.BYTES_PER_WORKER;
        // Gauss-10 in float64: ~100 KB per run, so 5,000 runs per worker fit in 1 GiB and train in lockstep ...
        assertEquals(5_000, EnsembleBlock.blockSize(tenThousand, 2, gauss, java.util.Optional.empty(), gib));
        // With the moments and L every 10 the probe's arrays (~0.45 MB a run) leave room for about 1,900 per worker ...
        int probed = EnsembleBlock.blockSize(tenThousand.toBuilder().curvature(CurvatureSettings.off().withMomentsEvery(10))
                .build(), 2, gauss, java.util.Optional.empty(), gib);
        assertTrue(probed > 1_500 && probed < 2_500, "block with the probe " + probed);
        // ... and a tenth of that budget holds about a fifth of them.
        int tight = EnsembleBlock.blockSize(tenThousand, 2, gauss, java.util.Optional.empty(), gib / 10);
        assertTrue(tight > 500 && tight < 2_000, "block " + tight);
        assertEquals(500, EnsembleBlock.blockSize(tenThousand.toBuilder().ensembleBlock(500).build(), 2, gauss,
                java.util.Optional.empty()));
        assertEquals(3, EnsembleBlock.blockSize(settings(5, 10).engine(Engine.ENSEMBLE).ensembleBlock(500).build(), 2,
                gauss, java.util.Optional.empty()));
        // MNIST-sized: 60,000 rows through [784, 128, 128, 128, 10] take ~100 MB per run in float32.
        long perRun = io.sgdscope.trainer.model.BatchedMlp.bytesPerRun(
                io.sgdscope.trainer.model.MlpArchitecture.of(784, 128, 128, 128, 10),
                io.sgdscope.trainer.model.Precision.FLOAT32, 60_000, 10_000, 64);
        assertTrue(perRun > 90_000_000L && perRun < 200_000_000L, "bytes per run " + perRun);
        assertTrue(EnsembleBlock.BYTES_PER_WORKER / perRun < 12, "a few MNIST runs per block");
    }

    @Test
    void theLargestFrameAnEnsembleBlockPublishesStaysBelowTheRecordLimit() {
        assertEquals(EnsembleBlock.MAX_FRAME_RUNS, EnsembleBlock.runsPerFrame("g10-ensemble-r99999"));
        // Every column the ensemble fills, the test set's and the moments' included, for as many runs as one frame may hold, with
        // run ids as long as the id rule allows (100 characters).
        String id = "e".repeat(93) + "-r99999";
        int n = EnsembleBlock.runsPerFrame(id);
        assertEquals(EnsembleBlock.MAX_FRAME_RUNS, n, "the record limit does not bind below the run limit");
        String[] runIds = new String[n];
        double[] values = new double[n];
        java.util.Arrays.fill(runIds, id);
        java.util.Arrays.fill(values, Math.PI);
        RunRecords records = new RunRecords(settings(1, 1).batchSize(100).build(),
                io.sgdscope.trainer.data.GaussK.generate(io.sgdscope.trainer.data.GaussKSettings.GAUSS_10),
                new Provenance("CPU", "a CPU", "a host", Map.of()));
        EnsembleCurvature.Columns curvature = new EnsembleCurvature.Columns(values, values, values, values, values,
                values, values, values, new boolean[n]);
        Frame frame = records.frame(runIds, 1, values, values, values, 0.1, values, values, null, values, values,
                values, curvature);
        int bytes = io.sgdscope.schemas.serde.TelemetrySerdes.frames().serialize(io.sgdscope.schemas.Topics.ITERATIONS, frame).length;
        assertTrue(bytes <= EnsembleBlock.FRAME_BYTES, bytes + " bytes");
        assertTrue(EnsembleBlock.FRAME_BYTES < 1024 * 1024 - 1024, "below max.request.size and message.max.bytes");
    }

    @Test
    void theEnsembleEngineRefusesOnlyWhatOnlyThePerRunEngineDoes(@TempDir Path checkpoints) {
        assertEquals(200, settings(4, 10).engine(Engine.ENSEMBLE).curvature(CurvatureSettings.defaults()).build()
                .curvature().spectrumEvery(), "the spectra are the ensemble's too");
        assertEquals(10, settings(4, 10).engine(Engine.ENSEMBLE).curvature(CurvatureSettings.off().withMomentsEvery(10))
                .build().curvature().momentsEvery(), "the moments and L are the ensemble's too");
        assertEquals(java.util.List.of(5), settings(4, 10).engine(Engine.ENSEMBLE).curvature(CurvatureSettings.off()
                .withSnapshots(java.util.List.of(5), checkpoints)).build().curvature().snapshotAt(), "and the snapshots");
        assertEquals(5, settings(4, 10).engine(Engine.ENSEMBLE).checkpoint(CheckpointSettings.every(checkpoints, 5))
                .build().checkpoint().every(), "checkpoints are the ensemble's too");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> settings(4, 10).engine(Engine.ENSEMBLE).ensembleBlock(-1).build()).getMessage().contains("block"));
    }

    @Test
    void anExperimentTrainsWithTheEnsembleEngineByDefaultAndRefusesTheRetiredPerRunEngine() {
        assertEquals(Engine.ENSEMBLE, TrainerSettings.defaults().engine());
        TrainerSettings perRun = settings(2, 5).build();
        assertEquals("the per-run engine was retired: an experiment trains with the ensemble engine (a block of one run "
                + "gives the per-run engine's records)", assertThrows(IllegalArgumentException.class,
                () -> new Experiment(perRun, new InMemoryTelemetrySink(), ExperimentListener.none())).getMessage());
        // The tests' reference still runs it, and says so in RunStarted.settings["engine"].
        InMemoryTelemetrySink sink = train(perRun);
        assertEquals("per-run", sink.runsStarted().get(0).getSettings().get("engine"));
        assertEquals(2, sink.runsFinished().size());
    }
}
