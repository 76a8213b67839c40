package io.sgdscope.streams.quantiles;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Values of one experiment at one iteration that a run task has gathered from the runs it processes and
 * not yet sent on: per metric, the runs' values. Sending a batch instead of each run's values keeps the
 * traffic between the tasks and the sketch updates (each re-serialises a sketch of several KB) low.
 *
 * <p>Mutable, owned by one stream task. Stored and sent in a compact binary form (a format byte, then
 * lengths and IEEE doubles), written with a ByteBuffer: a batch is rewritten on every record added.
 */
final class PartialValues {

    private static final byte FORMAT = 1;

    /** One metric's values, with its name's bytes made once. */
    private static final class Series {
        final byte[] name;
        double[] values = new double[8];
        int size;

        Series(String metric) {
            this.name = metric.getBytes(StandardCharsets.UTF_8);
        }
    }

    private final String experimentId;
    private final byte[] experimentBytes;
    private final int iteration;
    private int records;
    private final Map<String, Series> series = new LinkedHashMap<>();

    PartialValues(String experimentId, int iteration) {
        this.experimentId = Objects.requireNonNull(experimentId, "experimentId");
        this.experimentBytes = experimentId.getBytes(StandardCharsets.UTF_8);
        this.iteration = iteration;
    }

    String experimentId() {
        return experimentId;
    }

    int iteration() {
        return iteration;
    }

    /** How many input records (iteration records, completed steps, snapshots) contributed. */
    int records() {
        return records;
    }

    void countRecord() {
        records++;
    }

    /** Counts {@code count} more records that contributed (the counted runs of a frame). */
    void countRecords(int count) {
        records += count;
    }

    void add(String metric, double value) {
        Series values = seriesOf(metric);
        if (values.size == values.values.length) {
            values.values = Arrays.copyOf(values.values, values.size * 2);
        }
        values.values[values.size++] = value;
    }

    /**
     * Adds a frame's column at once: the value of every run {@code i < count} that is neither missing nor
     * skipped (a duplicate or a late record).
     *
     * @param missing true where the run has no value, or null if none is missing
     * @param skipped true where the run does not count here, or null if every run counts
     */
    void addColumn(String metric, double[] values, boolean[] missing, boolean[] skipped, int count) {
        Series series = seriesOf(metric);
        if (series.size + count > series.values.length) {
            // Room for at least as many values again: a batch gathers frame after frame of one block's size.
            series.values = Arrays.copyOf(series.values, Math.max(series.values.length, series.size + count) * 2);
        }
        if (missing == null && skipped == null) {
            System.arraycopy(values, 0, series.values, series.size, count);
            series.size += count;
            return;
        }
        double[] into = series.values;
        int size = series.size;
        for (int i = 0; i < count; i++) {
            if ((missing == null || !missing[i]) && (skipped == null || !skipped[i])) {
                into[size++] = values[i];
            }
        }
        series.size = size;
    }

    private Series seriesOf(String metric) {
        Series values = series.get(metric);
        if (values == null) {
            values = new Series(metric);
            series.put(metric, values);
        }
        return values;
    }

    /** Adds another batch's values (and records) of the same experiment and iteration. */
    void addAll(PartialValues other) {
        records += other.records;
        for (Map.Entry<String, Series> entry : other.series.entrySet()) {
            Series from = entry.getValue();
            for (int i = 0; i < from.size; i++) {
                add(entry.getKey(), from.values[i]);
            }
        }
    }

    /** The metrics with values, in the order they were first added. */
    Iterable<String> metrics() {
        return series.keySet();
    }

    /** How many values the metric has; they are the first {@code valueCount} of {@link #valuesView}. */
    int valueCount(String metric) {
        Series values = series.get(metric);
        return values == null ? 0 : values.size;
    }

    /** The metric's values without a copy (the first {@link #valueCount} entries count); do not change them. */
    double[] valuesView(String metric) {
        Series values = series.get(metric);
        return values == null ? new double[0] : values.values;
    }

    double[] valuesOf(String metric) {
        Series values = series.get(metric);
        return values == null ? new double[0] : Arrays.copyOf(values.values, values.size);
    }

    /** The key these values travel and are stored under: by experiment and iteration. */
    static String key(String experimentId, int iteration) {
        return experimentId + '\u0000' + iteration;
    }

    static Serde<PartialValues> serde() {
        return Serdes.serdeFrom((topic, partial) -> partial == null ? null : partial.toBytes(),
                (topic, bytes) -> bytes == null ? null : fromBytes(topic, bytes));
    }

    byte[] toBytes() {
        int length = 1 + 4 + experimentBytes.length + 4 + 4 + 2;
        for (Series values : series.values()) {
            length += 2 + values.name.length + 4 + Double.BYTES * values.size;
        }
        ByteBuffer buffer = ByteBuffer.allocate(length);
        buffer.put(FORMAT).putInt(experimentBytes.length).put(experimentBytes).putInt(iteration).putInt(records)
                .putShort((short) series.size());
        for (Series values : series.values()) {
            buffer.putShort((short) values.name.length).put(values.name).putInt(values.size);
            buffer.asDoubleBuffer().put(values.values, 0, values.size);
            buffer.position(buffer.position() + Double.BYTES * values.size);
        }
        return buffer.array();
    }

    static PartialValues fromBytes(String where, byte[] bytes) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            byte format = buffer.get();
            if (format != FORMAT) {
                throw new SerializationException("partial values in " + where + " in format " + format
                        + ", which this version of sgdscope does not read");
            }
            byte[] experiment = new byte[buffer.getInt()];
            buffer.get(experiment);
            PartialValues partial = new PartialValues(new String(experiment, StandardCharsets.UTF_8), buffer.getInt());
            partial.records = buffer.getInt();
            int metrics = buffer.getShort();
            for (int i = 0; i < metrics; i++) {
                byte[] name = new byte[buffer.getShort()];
                buffer.get(name);
                int size = buffer.getInt();
                Series values = new Series(new String(name, StandardCharsets.UTF_8));
                values.values = new double[Math.max(8, size)];
                buffer.asDoubleBuffer().get(values.values, 0, size);
                buffer.position(buffer.position() + Double.BYTES * size);
                values.size = size;
                partial.series.put(new String(name, StandardCharsets.UTF_8), values);
            }
            return partial;
        } catch (RuntimeException e) {
            if (e instanceof SerializationException) {
                throw e;
            }
            throw new SerializationException("corrupt partial values in " + where + ": " + e, e);
        }
    }
}
