package io.sgdscope.streams.quantiles;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Serdes of the values this app alone reads: its repartition topics and its frontier store. Not a
 * public format (the public output is QuantileSummary on sgd.quantiles); each starts with a format
 * byte so a later version can still read what an older one left in its topics and stores.
 */
final class InternalSerdes {

    private static final byte FORMAT = 1;

    private InternalSerdes() {}

    static Serde<MetricValue> metricValues() {
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : write(out -> {
                    out.writeUTF(value.experimentId());
                    out.writeUTF(value.metric());
                    out.writeInt(value.iteration());
                    out.writeDouble(value.value());
                }),
                (topic, bytes) -> bytes == null ? null : read(topic, bytes,
                        in -> new MetricValue(in.readUTF(), in.readUTF(), in.readInt(), in.readDouble())));
    }

    static Serde<CrossRunBand> bands() {
        return Serdes.serdeFrom(
                (topic, band) -> band == null ? null : write(out -> {
                    out.writeUTF(band.experimentId());
                    out.writeUTF(band.metric());
                    out.writeInt(band.iteration());
                    out.writeLong(band.count());
                    out.writeLong(band.nonFinite());
                    out.writeDouble(band.mean());
                    out.writeDouble(band.min());
                    out.writeDouble(band.max());
                    for (double quantile : band.quantiles().toArray()) {
                        out.writeDouble(quantile);
                    }
                    out.writeDouble(band.normalizedRankError());
                    out.writeLong(band.updatedAtMillis());
                }),
                (topic, bytes) -> bytes == null ? null : read(topic, bytes, in -> {
                    String experimentId = in.readUTF();
                    String metric = in.readUTF();
                    int iteration = in.readInt();
                    long count = in.readLong();
                    long nonFinite = in.readLong();
                    double mean = in.readDouble();
                    double min = in.readDouble();
                    double max = in.readDouble();
                    double[] quantiles = new double[Quantiles.LEVELS.size()];
                    for (int i = 0; i < quantiles.length; i++) {
                        quantiles[i] = in.readDouble();
                    }
                    return new CrossRunBand(experimentId, metric, iteration, count, nonFinite, mean, min, max,
                            Quantiles.of(quantiles), in.readDouble(), in.readLong());
                }));
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    private static <T> T read(String topic, byte[] bytes, Reader<T> reader) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new SerializationException("internal record on " + topic + " in format " + format
                        + ", this version reads " + FORMAT);
            }
            return reader.read(in);
        } catch (IOException e) {
            throw new SerializationException("corrupt internal record on " + topic + ": " + e.getMessage(), e);
        }
    }
}
