package io.sgdscope.trainer;

import io.sgdscope.trainer.checkpoint.CheckpointException;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the ensemble engine cuts the runs of this process into {@link EnsembleBlock}s.
 *
 * <p>Starting afresh: consecutive runs, {@code block} at a time (the last block takes the rest). Resuming
 * ({@link ResumePlan}): runs that finished earlier are left out; the runs that continue from a checkpoint are
 * blocked as they were published, one block per frame key of their RunStarted (the frame slice they were in, at
 * most {@link EnsembleBlock#MAX_FRAME_RUNS} runs), so that a resumed run's frames go out under the key its RunStarted
 * names, whatever the block size is now (the workers may change on a resume, and the automatic block size with
 * them); the runs that never started are blocked afresh, {@code block} at a time.
 */
final class EnsembleBlocks {

    private EnsembleBlocks() {}

    /**
     * One block to train.
     *
     * @param runIndices the run indices, ascending
     * @param resumed    per run, whether it continues from its checkpoint
     * @param frameKey   the key of all its frames (the RunStarted.frameKey of its resumed runs), or null for fresh
     *                   runs (the block's own slices, {@link EnsembleBlock#runsPerFrame})
     */
    record Spec(int[] runIndices, boolean[] resumed, String frameKey) {

        Spec {
            Objects.requireNonNull(runIndices, "runIndices");
            if (runIndices.length == 0 || resumed.length != runIndices.length) {
                throw new IllegalArgumentException("a block needs runs, each fresh or resumed");
            }
        }

        /** Consecutive fresh runs {@code first .. first + runs - 1}. */
        static Spec consecutive(int first, int runs) {
            int[] indices = new int[runs];
            for (int r = 0; r < runs; r++) {
                indices[r] = first + r;
            }
            return new Spec(indices, new boolean[runs], null);
        }
    }

    /**
     * The blocks of this process's runs: resumed groups first, then fresh runs {@code block} at a time.
     *
     * @param store the experiment's checkpoints (null without)
     */
    static List<Spec> of(TrainerSettings settings, ResumePlan plan, CheckpointStore store, int block) {
        List<Spec> specs = new ArrayList<>();
        List<Integer> fresh = new ArrayList<>();
        List<Integer> group = new ArrayList<>();
        String key = null;
        for (int r = settings.firstRun(); r < settings.endRun(); r++) {
            if (plan.isFinished(r)) {
                continue;
            }
            if (!plan.isResumable(r)) {
                fresh.add(r);
                continue;
            }
            String runId = Experiment.runId(settings.experimentId(), r);
            String frameKey = store.readHeader(runId).orElseThrow(() -> new CheckpointException("the checkpoint of "
                    + runId + " disappeared from " + store.folder())).runStarted().getFrameKey();
            if (frameKey == null) {
                throw new CheckpointException("the checkpoint of " + runId + " names no frame key: it was not made by the "
                        + "ensemble engine");
            }
            if (!frameKey.equals(key)) {
                flush(specs, group, key);
                key = frameKey;
            }
            group.add(r);
        }
        flush(specs, group, key);
        for (int from = 0; from < fresh.size(); from += block) {
            List<Integer> part = fresh.subList(from, Math.min(fresh.size(), from + block));
            specs.add(new Spec(part.stream().mapToInt(Integer::intValue).toArray(), new boolean[part.size()], null));
        }
        return specs;
    }

    private static void flush(List<Spec> specs, List<Integer> group, String key) {
        if (group.isEmpty()) {
            return;
        }
        boolean[] resumed = new boolean[group.size()];
        java.util.Arrays.fill(resumed, true);
        specs.add(new Spec(group.stream().mapToInt(Integer::intValue).toArray(), resumed, key));
        group.clear();
    }
}
