package io.sgdscope.trainer;

import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.checkpoint.CheckpointStore;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What an experiment does with each run, given the checkpoints it finds: runs that finished in an earlier
 * process are skipped, unfinished ones continue from their last checkpoint, the others start from t = 0.
 * Worked out before training starts, from the checkpoints' headers. A sharded process ({@link Shard}) plans its
 * own runs only: the shards of an experiment may share one checkpoint folder, each reading and writing the
 * checkpoints of its runs.
 *
 * @param finished  indices of the runs that finished earlier (their RunFinished was published): skipped
 * @param resumable index of each run that continues -> the iteration it continues from
 * @param fresh     runs (of this process's shard) that start from the beginning
 */
public record ResumePlan(Set<Integer> finished, Map<Integer, Integer> resumable, int fresh) {

    /** The settings a resumed run may change: they do not change its trajectory. */
    public static final Set<String> CHANGEABLE = Set.of("workers", "checkpoint.every", "checkpoint.dir");

    public ResumePlan {
        finished = Set.copyOf(finished);
        resumable = Map.copyOf(resumable);
    }

    /**
     * The plan for these settings. Without checkpoints, or without resuming, every run starts fresh; starting
     * afresh over the checkpoints of an earlier start is refused (its runs would be published twice).
     *
     * @throws IllegalArgumentException when the experiment has checkpoints but the settings do not resume, or resume
     *                                  an experiment without any checkpoint, or
     *                                  a checkpoint was made with settings that change the trajectory
     * @throws io.sgdscope.trainer.checkpoint.CheckpointException when a checkpoint cannot be read
     */
    public static ResumePlan of(TrainerSettings settings) {
        CheckpointSettings checkpoint = settings.checkpoint();
        if (!checkpoint.enabled()) {
            return new ResumePlan(Set.of(), Map.of(), settings.shardRuns());
        }
        CheckpointStore store = new CheckpointStore(checkpoint.dir(), settings.experimentId());
        String part = settings.shard().isPart() ? " (shard " + settings.shard() + ")" : "";
        if (!checkpoint.resume()) {
            if (hasCheckpoints(store, settings)) {
                throw new IllegalArgumentException("experiment " + settings.experimentId() + part + " already has checkpoints in "
                        + store.folder() + ": resume it (--resume), or choose another experiment id or checkpoint folder");
            }
            return new ResumePlan(Set.of(), Map.of(), settings.shardRuns());
        }
        if (!hasCheckpoints(store, settings)) {
            // Training every run afresh under the ids of an earlier start would publish its records a second time.
            throw new IllegalArgumentException("--resume: experiment " + settings.experimentId() + part + " has no checkpoint in "
                    + store.folder() + " (nothing to continue; without --resume it starts afresh)");
        }
        Map<String, String> now = settings.asMap();
        Set<Integer> finished = new TreeSet<>();
        Map<Integer, Integer> resumable = new TreeMap<>();
        for (int r = settings.firstRun(); r < settings.endRun(); r++) {
            String runId = Experiment.runId(settings.experimentId(), r);
            Optional<CheckpointStore.Header> header = store.readHeader(runId);
            if (header.isEmpty()) {
                continue;
            }
            String conflict = conflict(header.get().runStarted().getSettings(), now);
            if (conflict != null) {
                throw new IllegalArgumentException("cannot resume " + runId + ": " + conflict
                        + " (only workers and the checkpoint settings may change)");
            }
            if (header.get().isFinished()) {
                finished.add(r);
            } else {
                resumable.put(r, header.get().nextIteration());
            }
        }
        return new ResumePlan(finished, resumable, settings.shardRuns() - finished.size() - resumable.size());
    }

    /** Whether any run this process trains (all, or its shard's) has a checkpoint in the store. */
    private static boolean hasCheckpoints(CheckpointStore store, TrainerSettings settings) {
        if (!settings.shard().isPart()) {
            return !store.isEmpty();
        }
        for (int r = settings.firstRun(); r < settings.endRun(); r++) {
            if (java.nio.file.Files.exists(store.file(Experiment.runId(settings.experimentId(), r)))) {
                return true;
            }
        }
        return false;
    }

    /** The first setting (in key order) that differs, as text, or null when they agree. */
    static String conflict(Map<String, String> then, Map<String, String> now) {
        Set<String> keys = new TreeSet<>(then.keySet());
        keys.addAll(now.keySet());
        for (String key : keys) {
            if (CHANGEABLE.contains(key)) {
                continue;
            }
            String before = then.get(key);
            String after = now.get(key);
            if (before == null ? after != null : !before.equals(after)) {
                return "its checkpoint was made with " + key + " = " + (before == null ? "(none)" : before)
                        + ", the settings now have " + (after == null ? "(none)" : after);
            }
        }
        return null;
    }

    /** Whether the run finished earlier. */
    public boolean isFinished(int runIndex) {
        return finished.contains(runIndex);
    }

    /** Whether the run continues from a checkpoint. */
    public boolean isResumable(int runIndex) {
        return resumable.containsKey(runIndex);
    }
}
