package io.sgdscope.trainer.checkpoint;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Whether and how often runs save their state, and whether an experiment continues from saved states.
 * Validated on construction with one-line messages naming the setting.
 *
 * <p>With a folder, every run writes {@code <dir>/<experimentId>/<runId>.ckpt}: every {@code every}
 * iterations (0 = only when it stops), when it is stopped by a cancel (Ctrl-C; it is then <em>suspended</em>,
 * see {@link CheckpointStore}), and when it finishes (a marker that {@code --resume} skips it).
 *
 * @param dir    the folder of the checkpoints; null = no checkpoints
 * @param every  a checkpoint after every this many iterations, 0 = only when the run stops
 * @param resume continue the experiment: unfinished runs from their checkpoints, finished ones skipped
 */
public record CheckpointSettings(Path dir, int every, boolean resume) {

    public CheckpointSettings {
        if (every < 0) {
            throw new IllegalArgumentException("checkpoint-every must be >= 0 (0 = only when a run stops), got " + every);
        }
        if (dir == null && every > 0) {
            throw new IllegalArgumentException("checkpoint-every needs a checkpoint-dir to write the checkpoints into");
        }
        if (dir == null && resume) {
            throw new IllegalArgumentException("resume needs the checkpoint-dir the experiment's checkpoints are in");
        }
    }

    /** No checkpoints. */
    public static CheckpointSettings off() {
        return new CheckpointSettings(null, 0, false);
    }

    /** Checkpoints into {@code dir} every {@code every} iterations, starting afresh. */
    public static CheckpointSettings every(Path dir, int every) {
        return new CheckpointSettings(dir, every, false);
    }

    /** The same checkpoints, continuing the experiment from them. */
    public CheckpointSettings resuming() {
        return new CheckpointSettings(dir, every, true);
    }

    public boolean enabled() {
        return dir != null;
    }

    /** Whether a checkpoint is due after iteration t, i.e. with t + 1 iterations done. */
    public boolean dueAfter(int t) {
        return dir != null && every > 0 && (t + 1) % every == 0;
    }

    /**
     * These settings as name -> text, for {@code RunStarted.settings}. Resuming is not a setting of the runs
     * (a resumed run's RunStarted is the one it first published), so it is not listed.
     */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("checkpoint.every", Integer.toString(every));
        map.put("checkpoint.dir", dir == null ? "" : dir.toAbsolutePath().toString());
        return map;
    }
}
