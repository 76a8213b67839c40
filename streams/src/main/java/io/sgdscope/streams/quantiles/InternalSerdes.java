package io.sgdscope.streams.quantiles;

import io.sgdscope.schemas.RunStatus;
import io.sgdscope.streams.internals.Codec;
import org.apache.kafka.common.serialization.Serde;

/**
 * Serdes of the values this app alone reads: its repartition topics and its frontier stores. Not a
 * public format (the public output is QuantileSummary on sgd.quantiles); each starts with a format
 * byte so a later version can still read what an older one left in its topics and stores.
 */
final class InternalSerdes {

    /** Format 2 adds the variance; format 1 bands are still read (variance NaN). */
    private static final byte BAND_FORMAT = 2;
    private static final byte BAND_FORMAT_WITHOUT_VARIANCE = 1;
    /** Format 2: a lifecycle event carries its lifecycle's format byte (as a band event does); format 1 is still read. */
    private static final byte EVENT_FORMAT = 2;
    private static final byte EVENT_FORMAT_WITHOUT_LIFECYCLE_FORMAT = 1;
    /** Format 2 adds the run's shard (RunStarted.shardIndex and shardCount); format 1 lifecycles are still read (0/0). */
    private static final byte LIFECYCLE_FORMAT = 2;
    private static final byte LIFECYCLE_FORMAT_WITHOUT_SHARD = 1;
    private static final byte BAND = 'B';
    private static final byte LIFECYCLE = 'L';

    private InternalSerdes() {}

    static Serde<CrossRunBand> bands() {
        return Codec.serde(BAND_FORMAT, InternalSerdes::writeBand, (in, format) -> readBand(in, format));
    }

    static Serde<RunLifecycle> lifecycles() {
        return Codec.serde(LIFECYCLE_FORMAT, InternalSerdes::writeLifecycle, InternalSerdes::readLifecycle);
    }

    static Serde<FrontierEvent> frontierEvents() {
        return Codec.serde(EVENT_FORMAT, (out, event) -> {
            if (event.band() != null) {
                out.writeByte(BAND);
                out.writeByte(BAND_FORMAT);
                writeBand(out, event.band());
            } else {
                out.writeByte(LIFECYCLE);
                out.writeByte(LIFECYCLE_FORMAT);
                writeLifecycle(out, event.lifecycle());
            }
        }, (in, format) -> {
            if (format != EVENT_FORMAT && format != EVENT_FORMAT_WITHOUT_LIFECYCLE_FORMAT) {
                throw Codec.unknownFormat(format, "frontier event");
            }
            byte type = in.readByte();
            if (type == BAND) {
                return FrontierEvent.of(readBand(in, in.readByte()));
            }
            if (type == LIFECYCLE) {
                return FrontierEvent.of(readLifecycle(in, format == EVENT_FORMAT ? in.readByte()
                        : LIFECYCLE_FORMAT_WITHOUT_SHARD));
            }
            throw Codec.unknownFormat(type, "frontier event type");
        });
    }

    private static void writeBand(Codec.Out out, CrossRunBand band) {
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
        out.writeDouble(band.variance());
    }

    private static CrossRunBand readBand(Codec.In in, byte format) {
        if (format != BAND_FORMAT && format != BAND_FORMAT_WITHOUT_VARIANCE) {
            throw Codec.unknownFormat(format, "cross-run band");
        }
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
        double rankError = in.readDouble();
        long updatedAt = in.readLong();
        double variance = format == BAND_FORMAT ? in.readDouble() : Double.NaN;
        return new CrossRunBand(experimentId, metric, iteration, count, nonFinite, mean, variance, min, max,
                Quantiles.of(quantiles), rankError, updatedAt);
    }

    private static void writeLifecycle(Codec.Out out, RunLifecycle lifecycle) {
        out.writeUTF(lifecycle.experimentId());
        out.writeUTF(lifecycle.runId());
        out.writeByte(lifecycle.kind().ordinal());
        out.writeNullableString(lifecycle.status() == null ? null : lifecycle.status().name());
        out.writeInt(lifecycle.lastIteration());
        out.writeInt(lifecycle.shardIndex());
        out.writeInt(lifecycle.shardCount());
    }

    private static RunLifecycle readLifecycle(Codec.In in, byte format) {
        if (format != LIFECYCLE_FORMAT && format != LIFECYCLE_FORMAT_WITHOUT_SHARD) {
            throw Codec.unknownFormat(format, "run lifecycle");
        }
        String experimentId = in.readUTF();
        String runId = in.readUTF();
        RunLifecycle.Kind kind = RunLifecycle.Kind.values()[in.readByte()];
        String status = in.readNullableString();
        int lastIteration = in.readInt();
        int shardIndex = format == LIFECYCLE_FORMAT ? in.readInt() : 0;
        int shardCount = format == LIFECYCLE_FORMAT ? in.readInt() : 0;
        return new RunLifecycle(experimentId, runId, kind, status == null ? null : RunStatus.valueOf(status), lastIteration,
                shardIndex, shardCount);
    }
}
