package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code --shard i/N}: N processes, each training its shard of an experiment, publish together exactly the
 * records one process publishes for the whole experiment (run ids, seeds, every value bit for bit), every
 * RunStarted says how many runs the whole experiment has, and a shard's RunStarted names its shard (i and N).
 */
class ShardedExperimentTest {

    @TempDir
    Path dir;

    private static TrainerSettings.Builder settings(Engine engine, int runs) {
        return TrainerSettings.builder().experimentId("sharded").runs(runs).iterations(6).workers(2)
                .curvature(CurvatureSettings.off()).engine(engine);
    }

    private static InMemoryTelemetrySink train(TrainerSettings settings) {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        Engines.experiment(settings, sink, ExperimentListener.none()).run();
        return sink;
    }

    @Test
    void theShardsCutTheRunIndicesIntoContiguousRangesThatCoverEveryRunOnce() {
        for (int runs = 1; runs <= 40; runs++) {
            for (int count = 1; count <= runs; count++) {
                int[] owner = new int[runs];
                int next = 0;
                for (int index = 1; index <= count; index++) {
                    Shard shard = new Shard(index, count);
                    assertEquals(next, shard.firstRun(runs), "shard " + shard + " of " + runs + " starts where the last ended");
                    int size = shard.runs(runs);
                    assertTrue(size == runs / count || size == runs / count + 1, "shard " + shard + " of " + runs + ": " + size);
                    for (int r = shard.firstRun(runs); r < shard.endRun(runs); r++) {
                        owner[r]++;
                        assertTrue(shard.contains(runs, r));
                    }
                    next = shard.endRun(runs);
                }
                assertEquals(runs, next, "the last shard ends at R");
                for (int r = 0; r < runs; r++) {
                    assertEquals(1, owner[r], "run " + r + " of " + runs + " in " + count + " shards");
                }
            }
        }
        // The documented formula on one case: 10 runs in 3 shards are 0..2, 3..5, 6..9.
        assertEquals(List.of(0, 3, 6, 10), List.of(new Shard(1, 3).firstRun(10), new Shard(2, 3).firstRun(10),
                new Shard(3, 3).firstRun(10), new Shard(3, 3).endRun(10)));
        // 100,000 runs in 99,999 shards: (i - 1) R = 9,999,800,000 overflows an int, not the long it is computed in.
        assertEquals(99_998, new Shard(99_999, 99_999).firstRun(100_000));
        assertEquals(2, new Shard(99_999, 99_999).runs(100_000));
    }

    @Test
    void aShardThatIsNotIOfNOrHasNoRunsIsRefusedInOneLine() {
        assertEquals(new Shard(2, 4), Shard.parse("2/4"));
        assertEquals("shard must be i/N with 1 <= i <= N, got 3/2",
                assertThrows(IllegalArgumentException.class, () -> Shard.parse("3/2")).getMessage());
        assertEquals("shard must be i/N with 1 <= i <= N, got 0/2",
                assertThrows(IllegalArgumentException.class, () -> Shard.parse("0/2")).getMessage());
        for (String bad : new String[] {"2", "a/b", "1/2/3", "", "1/"}) {
            assertEquals("shard must be i/N with 1 <= i <= N (e.g. 2/4), got '" + bad + "'",
                    assertThrows(IllegalArgumentException.class, () -> Shard.parse(bad)).getMessage());
        }
        assertEquals("shard 1/4: 4 shards of 3 runs would leave a shard without runs (N must be at most the runs)",
                assertThrows(IllegalArgumentException.class,
                        () -> settings(Engine.PER_RUN, 3).shard(new Shard(1, 4)).build()).getMessage());
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void theShardsTogetherPublishWhatTheWholeExperimentPublishesRunForRun(Engine engine) {
        int runs = 7;
        // Blocks of 2 runs: the whole experiment's blocks are {0,1} {2,3} {4,5} {6}, the shards' {0,1} | {2,3} {4} | {5,6}.
        // Per-run engine: bit for bit. Ensemble engine: to 1e-12 (see assertClose).
        TrainerSettings whole = settings(engine, runs).ensembleBlock(2).build();
        InMemoryTelemetrySink reference = train(whole);
        Map<String, RunStarted> started = new TreeMap<>();
        Map<String, List<IterationMetrics>> iterations = new HashMap<>();
        Map<String, RunFinished> finished = new HashMap<>();
        for (int i = 1; i <= 3; i++) {
            TrainerSettings part = whole.toBuilder().shard(new Shard(i, 3)).build();
            InMemoryTelemetrySink sink = train(part);
            assertEquals(part.shardRuns(), sink.runsStarted().size(), "shard " + i + " trains its runs only");
            for (RunStarted record : sink.runsStarted()) {
                assertTrue(part.shard().contains(runs, record.getRunIndex()), record.getRunId() + " in shard " + i);
                assertEquals(null, started.put(record.getRunId(), record), record.getRunId() + " trained twice");
                assertEquals(i + "/3", record.getSettings().get("shard"), "the settings name the shard");
                iterations.put(record.getRunId(), sink.iterations(record.getRunId()));
                finished.put(record.getRunId(), sink.finished(record.getRunId()).orElseThrow());
            }
        }
        assertEquals(reference.runsStarted().stream().map(RunStarted::getRunId).sorted().toList(), List.copyOf(started.keySet()));
        for (RunStarted expected : reference.runsStarted()) {
            String runId = expected.getRunId();
            RunStarted actual = started.get(runId);
            assertEquals(runs, expected.getPlannedRuns(), "plannedRuns of the whole experiment");
            assertEquals(runs, actual.getPlannedRuns(), "plannedRuns of a shard: still the whole experiment's R");
            assertEquals(null, expected.getShardIndex(), "an unsharded experiment names no shard");
            assertEquals(null, expected.getShardCount());
            assertEquals(actual.getSettings().get("shard"), actual.getShardIndex() + "/" + actual.getShardCount(),
                    runId + " names its shard i/N");
            assertEquals(3, actual.getShardCount());
            assertEquals(expected.getRunIndex(), actual.getRunIndex());
            assertEquals(expected.getSeed(), actual.getSeed(), runId + ": the seed of its index");
            assertFalse(expected.getSettings().containsKey("shard"), "an unsharded experiment names no shard");
            List<IterationMetrics> want = reference.iterations(runId);
            List<IterationMetrics> got = iterations.get(runId);
            assertEquals(6, want.size());
            assertEquals(want.size(), got.size(), runId);
            for (int t = 0; t < want.size(); t++) {
                if (engine == Engine.PER_RUN) {
                    CheckpointResumeTest.assertSameValues(want.get(t), got.get(t));    // bit for bit
                } else {
                    assertClose(want.get(t), got.get(t));
                }
            }
            RunFinished end = finished.get(runId);
            assertEquals(reference.finished(runId).orElseThrow().getStatus(), end.getStatus());
            assertEquals(reference.finished(runId).orElseThrow().getFinalLoss(), end.getFinalLoss(),
                    1e-12 * reference.finished(runId).orElseThrow().getFinalLoss(), runId);
        }
    }

    /**
     * The ensemble engine's values of a run depend in their last bits on its block: the first layer is one gemm over
     * every run of the block, whose width decides how OpenBLAS splits it into kernels. Equal to a relative 1e-12 then
     * (a wrong seed or minibatch stream differs from the first iteration by far more).
     */
    private static void assertClose(IterationMetrics expected, IterationMetrics actual) {
        String at = expected.getRunId() + " at t = " + expected.getIteration();
        assertEquals(expected.getIteration(), actual.getIteration(), at);
        double[][] pairs = {{expected.getLoss(), actual.getLoss()}, {expected.getMinibatchLoss(), actual.getMinibatchLoss()},
            {expected.getSgNorm(), actual.getSgNorm()}, {expected.getTrainAccuracy(), actual.getTrainAccuracy()},
            {expected.getStepSize(), actual.getStepSize()}};
        for (double[] pair : pairs) {
            assertEquals(pair[0], pair[1], 1e-12 * Math.max(Math.abs(pair[0]), 1), at);
        }
        assertEquals(expected.getSgCosPrev() == null, actual.getSgCosPrev() == null, at);
        if (expected.getSgCosPrev() != null) {
            assertEquals(expected.getSgCosPrev(), actual.getSgCosPrev(), 1e-12, at);
        }
        assertEquals(expected.getTestLoss() == null, actual.getTestLoss() == null, at);
    }

    @Test
    void eachShardCheckpointsAndResumesItsOwnRunsInOneSharedFolder() throws Exception {
        TrainerSettings whole = settings(Engine.PER_RUN, 4).workers(1).iterations(12)
                .checkpoint(CheckpointSettings.every(dir, 5)).build();
        TrainerSettings first = whole.toBuilder().shard(new Shard(1, 2)).build();
        TrainerSettings second = whole.toBuilder().shard(new Shard(2, 2)).build();

        // Shard 1 is cancelled after its first run; shard 2 then starts afresh over shard 1's checkpoints.
        Experiment[] running = new Experiment[1];
        InMemoryTelemetrySink before = new InMemoryTelemetrySink();
        running[0] = Engines.experiment(first, before, new ExperimentListener() {
            @Override
            public void runFinished(RunFinished record) {
                running[0].cancel();
            }
        });
        ExperimentResult stopped = running[0].run();
        assertEquals(1, stopped.count(RunStatus.COMPLETED));
        assertEquals(1, stopped.notStarted(), "of shard 1's two runs");
        assertTrue(Files.exists(dir.resolve("sharded").resolve("sharded-r00000.ckpt")));
        ExperimentResult other = Engines.experiment(second, new InMemoryTelemetrySink(), ExperimentListener.none()).run();
        assertEquals(2, other.count(RunStatus.COMPLETED), "shard 2 is not refused for shard 1's checkpoints");

        // Shard 1 resumes: its finished run is skipped, the other trains; shard 2's runs are not touched.
        InMemoryTelemetrySink after = new InMemoryTelemetrySink();
        ExperimentResult resumed = Engines.experiment(first.toBuilder().checkpoint(first.checkpoint().resuming()).build(), after,
                ExperimentListener.none()).run();
        assertEquals(1, resumed.skipped());
        assertEquals(List.of("sharded-r00001"), after.runsStarted().stream().map(RunStarted::getRunId).toList());

        // Resuming the shards' checkpoints with another split (here: unsharded) is a conflict on the first of them.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engines.experiment(
                whole.toBuilder().checkpoint(whole.checkpoint().resuming()).build(), new InMemoryTelemetrySink(),
                ExperimentListener.none()));
        assertEquals("cannot resume sharded-r00000: its checkpoint was made with shard = 1/2, the settings now have (none) "
                + "(only workers and the checkpoint settings may change)", e.getMessage());

        InMemoryTelemetrySink reference = train(whole.toBuilder().experimentId("sharded-ref").checkpoint(CheckpointSettings.off())
                .build());
        List<Double> expected = new ArrayList<>();
        reference.iterations("sharded-ref-r00001").forEach(r -> expected.add(r.getLoss()));
        List<Double> actual = new ArrayList<>();
        after.iterations("sharded-r00001").forEach(r -> actual.add(r.getLoss()));
        assertEquals(expected, actual, "the resumed shard's run as the whole experiment trains it");
        assertEquals(IntStream.range(0, 12).boxed().toList(),
                after.iterations("sharded-r00001").stream().map(IterationMetrics::getIteration).toList());
    }
}
