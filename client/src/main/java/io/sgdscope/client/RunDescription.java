package io.sgdscope.client;

import io.sgdscope.schemas.Ids;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a run's RunStarted says about how it is made (provenance): its experiment and index, seed, planned
 * iterations, training set, model, optimizer and precision. Its run id is {@code <experimentId>-r<index, 5 digits>},
 * as the built-in trainer names its runs. Made with {@link #builder}.
 *
 * @param experimentId      groups the runs of one configuration that differ only in their seed
 * @param runIndex          index of the run within the experiment, 0-based
 * @param seed              seed of the run's initialisation and minibatch order
 * @param plannedIterations T, the iterations the run is set to perform
 * @param plannedRuns       R, the runs of the whole experiment, or null when unknown
 * @param data              the training set
 * @param model             the network
 * @param optimizer         the update rule's name, e.g. "sgd" (Eq. 8)
 * @param learningRate      eta (Eq. 8), the base step size of adaptive rules
 * @param batchSize         m, the minibatch size
 * @param sampling          how minibatches are drawn, e.g. "with-replacement" or "epochs-shuffled"
 * @param precision         "float64" or "float32": the precision of training
 * @param backend           what ran the computation, e.g. "CPU" or "CUDA"
 * @param versions          versions of the software that made the run (the client adds java)
 * @param settings          every further setting of the run as name -> value text
 *                          (versions and settings keep the order they are given in)
 */
public record RunDescription(String experimentId, int runIndex, long seed, int plannedIterations, Integer plannedRuns,
                             DataDescription data, ModelDescription model, String optimizer, double learningRate,
                             int batchSize, String sampling, String precision, String backend, Map<String, String> versions,
                             Map<String, String> settings) {

    /** @throws IllegalArgumentException (one line) for an invalid experiment id or out-of-range sizes */
    public RunDescription {
        Ids.require("experiment id", experimentId);
        Ids.require("run id", experimentId + "-r" + String.format("%05d", runIndex));
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(sampling, "sampling");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(backend, "backend");
        if (runIndex < 0) {
            throw new IllegalArgumentException("the run index must be >= 0, got " + runIndex);
        }
        if (plannedIterations < 1) {
            throw new IllegalArgumentException("the planned iterations must be >= 1, got " + plannedIterations);
        }
        if (plannedRuns != null && plannedRuns <= runIndex) {
            throw new IllegalArgumentException("run index " + runIndex + " is not below the planned runs " + plannedRuns);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be >= 1, got " + batchSize);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("the learning rate must be a finite number > 0, got " + learningRate);
        }
        versions = orderedCopy("versions", versions);
        settings = orderedCopy("settings", settings);
    }

    /** An unmodifiable copy that keeps the caller's order (the order the RunStarted's map is written in). */
    private static Map<String, String> orderedCopy(String what, Map<String, String> map) {
        Map<String, String> copy = new LinkedHashMap<>();
        map.forEach((name, value) -> copy.put(Objects.requireNonNull(name, what), Objects.requireNonNull(value, what)));
        return Collections.unmodifiableMap(copy);
    }

    /** The run's id: {@code <experimentId>-r<index, 5 digits>}. */
    public String runId() {
        return experimentId + "-r" + String.format("%05d", runIndex);
    }

    /** The same run description for another run of the experiment (index and seed). */
    public RunDescription forRun(int index, long runSeed) {
        return new RunDescription(experimentId, index, runSeed, plannedIterations, plannedRuns, data, model, optimizer,
                learningRate, batchSize, sampling, precision, backend, versions, settings);
    }

    /** A builder for the run {@code runIndex} of {@code experimentId}; data, model and learning rate must be set. */
    public static Builder builder(String experimentId, int runIndex) {
        return new Builder(experimentId, runIndex);
    }

    /** Builds a {@link RunDescription}: vanilla SGD with minibatches drawn with replacement, float64 on the CPU by default. */
    public static final class Builder {
        private final String experimentId;
        private final int runIndex;
        private long seed;
        private int plannedIterations = 1;
        private Integer plannedRuns;
        private DataDescription data;
        private ModelDescription model;
        private String optimizer = "sgd";
        private double learningRate = Double.NaN;
        private int batchSize = 1;
        private String sampling = "with-replacement";
        private String precision = "float64";
        private String backend = "CPU";
        private final Map<String, String> versions = new LinkedHashMap<>();
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder(String experimentId, int runIndex) {
            this.experimentId = experimentId;
            this.runIndex = runIndex;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder plannedIterations(int value) {
            plannedIterations = value;
            return this;
        }

        public Builder plannedRuns(Integer value) {
            plannedRuns = value;
            return this;
        }

        public Builder data(DataDescription value) {
            data = value;
            return this;
        }

        public Builder model(ModelDescription value) {
            model = value;
            return this;
        }

        /** The optimizer's name, learning rate and minibatch size. */
        public Builder optimizer(String name, double rate, int minibatch) {
            optimizer = name;
            learningRate = rate;
            batchSize = minibatch;
            return this;
        }

        /** m, the minibatch size (also set by {@link #optimizer}). */
        public Builder batchSize(int value) {
            batchSize = value;
            return this;
        }

        public Builder sampling(String value) {
            sampling = value;
            return this;
        }

        public Builder precision(String value) {
            precision = value;
            return this;
        }

        public Builder backend(String value) {
            backend = value;
            return this;
        }

        public Builder version(String software, String version) {
            versions.put(software, version);
            return this;
        }

        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** @throws IllegalArgumentException for missing or invalid values */
        public RunDescription build() {
            if (data == null || model == null) {
                throw new IllegalArgumentException("a run description needs its data and model");
            }
            return new RunDescription(experimentId, runIndex, seed, plannedIterations, plannedRuns, data, model, optimizer,
                    learningRate, batchSize, sampling, precision, backend, versions, settings);
        }
    }
}
