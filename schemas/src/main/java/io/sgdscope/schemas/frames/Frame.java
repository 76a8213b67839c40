package io.sgdscope.schemas.frames;

import io.sgdscope.schemas.IterationFrame;
import io.sgdscope.schemas.IterationMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One iteration t of a block of runs of one experiment, column by column (the Avro record IterationFrame):
 * for each {@link FrameColumn}, the value of every run of {@link #runIds()} in order.
 *
 * <p>Values are float64. A required column has a value for every run. An optional column may be absent as a
 * whole ({@link #has} false: no run computed it at t) or lack single values ({@link #isPresent} false: that
 * run did not compute it; such a value reads as NaN from {@link #value}, null from {@link #valueOrNull}). A
 * present value may itself be NaN or infinite (a diverged run), which is different from a missing one.
 *
 * <p>Immutable by contract: the arrays handed to the {@link Builder} and returned by {@link #column} and
 * {@link #missing} are not copied (a frame of 10,000 runs carries 17 columns of 80 KB), so neither side may
 * change them after the frame is built.
 */
public final class Frame {

    private static final int COLUMNS = FrameColumn.all().size();

    private final String experimentId;
    private final int iteration;
    private final long timestampMillis;
    private final String[] runIds;
    /** By column ordinal; null where the column is absent. */
    private final double[][] values;
    /** By column ordinal; null where no value of the column is missing. */
    private final boolean[][] missing;

    private Frame(Builder builder) {
        this.experimentId = builder.experimentId;
        this.iteration = builder.iteration;
        this.timestampMillis = builder.timestampMillis;
        this.runIds = builder.runIds;
        this.values = builder.values;
        this.missing = builder.missing;
    }

    /**
     * @param runIds the runs, in column order (not copied)
     */
    public static Builder builder(String experimentId, int iteration, long timestampMillis, String[] runIds) {
        return new Builder(experimentId, iteration, timestampMillis, runIds);
    }

    /** The frame of one run: what a per-run IterationMetrics record says, as columns of length 1. */
    public static Frame of(IterationMetrics metrics) {
        Builder builder = builder(metrics.getExperimentId(), metrics.getIteration(), metrics.getTimestampMillis(),
                new String[] {metrics.getRunId()});
        for (FrameColumn column : FrameColumn.all()) {
            Double value = column.valueOf(metrics);
            if (value != null) {
                builder.column(column, new double[] {value});
            }
        }
        return builder.build();
    }

    /** The frame of several runs' records of the same experiment and iteration (in their order; the first one's timestamp). */
    public static Frame of(List<IterationMetrics> records) {
        if (records.isEmpty()) {
            throw new IllegalArgumentException("a frame covers at least one run");
        }
        IterationMetrics first = records.get(0);
        int n = records.size();
        String[] runIds = new String[n];
        for (int i = 0; i < n; i++) {
            IterationMetrics record = records.get(i);
            if (!record.getExperimentId().equals(first.getExperimentId()) || record.getIteration() != first.getIteration()) {
                throw new IllegalArgumentException("a frame holds one experiment at one iteration: " + record.getRunId()
                        + " is " + record.getExperimentId() + " at " + record.getIteration() + ", "
                        + first.getRunId() + " is " + first.getExperimentId() + " at " + first.getIteration());
            }
            runIds[i] = record.getRunId();
        }
        Builder builder = builder(first.getExperimentId(), first.getIteration(), first.getTimestampMillis(), runIds);
        for (FrameColumn column : FrameColumn.all()) {
            double[] columnValues = new double[n];
            boolean[] columnMissing = null;
            int present = 0;
            for (int i = 0; i < n; i++) {
                Double value = column.valueOf(records.get(i));
                if (value == null) {
                    columnValues[i] = Double.NaN;
                    if (columnMissing == null) {
                        columnMissing = new boolean[n];
                    }
                    columnMissing[i] = true;
                } else {
                    columnValues[i] = value;
                    present++;
                }
            }
            if (present > 0) {
                builder.column(column, columnValues, columnMissing);
            }
        }
        return builder.build();
    }

    /** The frame an Avro-decoded IterationFrame holds (the general, slower path; see FrameCodec for the fast one). */
    public static Frame of(IterationFrame record) {
        String[] runIds = record.getRunIds().toArray(new String[0]);
        Builder builder = builder(record.getExperimentId(), record.getIteration(), record.getTimestampMillis(), runIds);
        for (FrameColumn column : FrameColumn.all()) {
            Object field = record.get(column.field());
            if (field == null) {
                continue;
            }
            List<?> items = (List<?>) field;
            double[] columnValues = new double[items.size()];
            boolean[] columnMissing = null;
            for (int i = 0; i < columnValues.length; i++) {
                Object item = items.get(i);
                if (item == null) {
                    columnValues[i] = Double.NaN;
                    if (columnMissing == null) {
                        columnMissing = new boolean[columnValues.length];
                    }
                    columnMissing[i] = true;
                } else {
                    columnValues[i] = ((Number) item).doubleValue();
                }
            }
            builder.column(column, columnValues, columnMissing);
        }
        return builder.build();
    }

    public String experimentId() {
        return experimentId;
    }

    public int iteration() {
        return iteration;
    }

    public long timestampMillis() {
        return timestampMillis;
    }

    /** How many runs the frame covers. */
    public int size() {
        return runIds.length;
    }

    public String runId(int run) {
        return runIds[run];
    }

    /** The runs, in column order. */
    public List<String> runIds() {
        return List.of(runIds);
    }

    /**
     * The frame's first run id. A frame of one run is keyed by it on sgd.iterations, like an IterationMetrics; a
     * trainer of blocks keys every frame of a block by the block's frame key (RunStarted.frameKey: its first run id
     * when it began), which differs from this once that run has ended and left the frames. Readers that keep
     * per-block state use the record's Kafka key.
     */
    public String key() {
        return runIds[0];
    }

    /** Whether any run has a value in this column. */
    public boolean has(FrameColumn column) {
        return values[column.ordinal()] != null;
    }

    /** Whether the run has a value in this column (it may still be NaN or infinite). */
    public boolean isPresent(FrameColumn column, int run) {
        double[] columnValues = values[column.ordinal()];
        boolean[] columnMissing = missing[column.ordinal()];
        return columnValues != null && (columnMissing == null || !columnMissing[run]);
    }

    /** The run's value, NaN where it has none. */
    public double value(FrameColumn column, int run) {
        double[] columnValues = values[column.ordinal()];
        return columnValues == null ? Double.NaN : columnValues[run];
    }

    /** The run's value, null where it has none. */
    public Double valueOrNull(FrameColumn column, int run) {
        return isPresent(column, run) ? values[column.ordinal()][run] : null;
    }

    /** The column's values (NaN where missing), or null if the column is absent. Not a copy: do not change it. */
    public double[] column(FrameColumn column) {
        return values[column.ordinal()];
    }

    /** Which values of the column are missing, or null if none is. Not a copy: do not change it. */
    public boolean[] missing(FrameColumn column) {
        return missing[column.ordinal()];
    }

    /** The run's per-run record: the IterationMetrics this run would have published alone. */
    public IterationMetrics row(int run) {
        IterationMetrics metrics = new IterationMetrics();
        metrics.setRunId(runIds[run]);
        metrics.setExperimentId(experimentId);
        metrics.setIteration(iteration);
        metrics.setTimestampMillis(timestampMillis);
        for (FrameColumn column : FrameColumn.all()) {
            column.set(metrics, valueOrNull(column, run));
        }
        return metrics;
    }

    /** Every run's per-run record, in column order. */
    public List<IterationMetrics> rows() {
        List<IterationMetrics> rows = new ArrayList<>(runIds.length);
        for (int i = 0; i < runIds.length; i++) {
            rows.add(row(i));
        }
        return rows;
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof Frame frame)) {
            return false;
        }
        if (!experimentId.equals(frame.experimentId) || iteration != frame.iteration || timestampMillis != frame.timestampMillis
                || !Arrays.equals(runIds, frame.runIds)) {
            return false;
        }
        for (FrameColumn column : FrameColumn.all()) {
            if (has(column) != frame.has(column)) {
                return false;
            }
            for (int i = 0; has(column) && i < runIds.length; i++) {
                if (isPresent(column, i) != frame.isPresent(column, i) || isPresent(column, i)
                        && Double.doubleToLongBits(value(column, i)) != Double.doubleToLongBits(frame.value(column, i))) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Objects.hash(experimentId, iteration, timestampMillis, Arrays.hashCode(runIds));
    }

    @Override
    public String toString() {
        return "Frame[" + experimentId + " t=" + iteration + ", " + runIds.length + " run(s) from " + runIds[0] + "]";
    }

    /** Builds a frame; checks that every column has one value per run and that the required ones are there. */
    public static final class Builder {
        private final String experimentId;
        private final int iteration;
        private final long timestampMillis;
        private final String[] runIds;
        private final double[][] values = new double[COLUMNS][];
        private final boolean[][] missing = new boolean[COLUMNS][];

        private Builder(String experimentId, int iteration, long timestampMillis, String[] runIds) {
            this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
            this.iteration = iteration;
            this.timestampMillis = timestampMillis;
            this.runIds = Objects.requireNonNull(runIds, "runIds");
            if (runIds.length == 0) {
                throw new IllegalArgumentException("a frame covers at least one run");
            }
            for (String runId : runIds) {
                Objects.requireNonNull(runId, "a run id of the frame");
            }
        }

        /** A column with a value for every run (not copied). */
        public Builder column(FrameColumn column, double[] columnValues) {
            return column(column, columnValues, null);
        }

        /**
         * A column (not copied).
         *
         * @param columnMissing true where a run has no value (its entry in columnValues is ignored); null if none is missing
         */
        public Builder column(FrameColumn column, double[] columnValues, boolean[] columnMissing) {
            Objects.requireNonNull(columnValues, column.field());
            if (columnValues.length != runIds.length || columnMissing != null && columnMissing.length != runIds.length) {
                throw new IllegalArgumentException("column " + column.field() + " has " + columnValues.length
                        + " values for " + runIds.length + " runs");
            }
            if (columnMissing != null && !column.optional()) {
                for (boolean gap : columnMissing) {
                    if (gap) {
                        throw new IllegalArgumentException("column " + column.field() + " is required: every run has a value");
                    }
                }
                columnMissing = null;
            }
            values[column.ordinal()] = columnValues;
            missing[column.ordinal()] = columnMissing;
            return this;
        }

        public Frame build() {
            for (FrameColumn column : FrameColumn.all()) {
                if (!column.optional() && values[column.ordinal()] == null) {
                    throw new IllegalArgumentException("column " + column.field() + " is required in a frame");
                }
            }
            return new Frame(this);
        }
    }
}
