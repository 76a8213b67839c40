package io.sgdscope.streams.runs;

import io.sgdscope.schemas.Ids;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.internals.Codec;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;

/**
 * The per-run input of both apps as one stream keyed by the frame key (RunStarted.frameKey: the first run
 * id of a block whose runs are published together, or the run's own id when it publishes per run), so that
 * one task sees everything about a run in order:
 *
 * <pre>
 * sgd.iterations (frame key → IterationFrame | IterationMetrics, read as frames) ───────────┐
 * sgd.runs (runId/started|finished → RunStarted|RunFinished) → by frame key ┐            ├─ merge
 * sgd.spectra (runId → SpectrumSnapshot) → scalars (optional) ──────────┴→ repartition ─┘
 * </pre>
 *
 * <p>Spectrum snapshots are re-keyed by their {@code frameKey} (the key of their run's frames), or by their run id
 * when they have none (runs that publish per run, and snapshots written before SpectrumSnapshot had the field).
 *
 * <p>Records whose run or experiment id breaks the {@link Ids id rule} are refused where they enter
 * ({@link InvalidRecordException}: dead-lettered, counted, skipped).
 *
 * <p>Starts, finishes and snapshots share one repartition topic ({@code run-events-by-run}): each input
 * partition a task reads but finds empty costs Kafka Streams work on every record it processes.
 *
 * <p>The repartition topics are re-keyed copies and must have as many partitions as sgd.iterations,
 * which is read in place: a run's records and its start and finish then meet in the same task. The
 * count is given by the caller (looked up at start); 0 leaves it to Kafka Streams, which is right only
 * when sgd.runs and sgd.spectra have as many partitions as sgd.iterations (as {@code sgdscope}'s topic
 * set-up creates them). Spectra are reduced to their scalars before they cross, so the large arrays
 * (full spectra, Hessian diagonals) are not copied.
 */
public final class RunInputs {

    /**
     * Since frames: starts and finishes carry the key of their run's frames, and starts their run's shard (index and
     * count, 0 and 0 when not sharded). Format 1 (neither) is still read.
     */
    private static final byte FORMAT = 2;
    private static final byte SPECTRUM = 'S';
    private static final byte STARTED = 'B';
    private static final byte FINISHED = 'F';

    private RunInputs() {}

    /**
     * @param prefix names the nodes and repartition topics (an app may read the inputs once)
     * @param partitions partitions of sgd.iterations, or 0 if unknown
     * @param withSpectra whether sgd.spectra is read too
     */
    public static KStream<String, RunInput> stream(StreamsBuilder builder, int partitions, boolean withSpectra) {
        return stream(builder, partitions, withSpectra, AppScope.LIVE);
    }

    /** As {@link #stream(StreamsBuilder, int, boolean)}, keeping only the records within {@code scope}. */
    public static KStream<String, RunInput> stream(StreamsBuilder builder, int partitions, boolean withSpectra, AppScope scope) {
        boolean filter = scope.filters();
        KStream<String, RunInput> iterations = builder
                .stream(Topics.ITERATIONS, Consumed.with(Serdes.String(), TelemetrySerdes.frames()).withName("iterations"))
                .filter((key, frame) -> frame != null && validIds(frame) && (!filter
                        || scope.includesExperiment(frame.experimentId()) && scope.includesIteration(frame.iteration())),
                        Named.as("iterations-present"))
                .mapValues(frame -> (RunInput) new RunInput.Frames(frame), Named.as("iteration-inputs"));

        KStream<String, RunInput> lifecycle = builder
                .stream(Topics.RUNS, Consumed.with(Serdes.String(), TelemetrySerdes.runs()).withName("runs"))
                .filter((key, record) -> (record instanceof RunStarted started && validIds(started.getRunId(), started.getExperimentId())
                                && scope.includesExperiment(started.getExperimentId()))
                        || (record instanceof RunFinished finished && validIds(finished.getRunId(), finished.getExperimentId())
                                && scope.includesExperiment(finished.getExperimentId())),
                        Named.as("runs-present"))
                .map((key, record) -> {
                    RunInput input = record instanceof RunStarted started
                            ? RunInput.Started.of(started)
                            : RunInput.Finished.of((RunFinished) record);
                    return KeyValue.pair(input instanceof RunInput.Started started ? started.frameKey()
                            : ((RunInput.Finished) input).frameKey(), input);
                }, Named.as("runs-by-frame-key"));

        KStream<String, RunInput> events = lifecycle;
        if (withSpectra) {
            KStream<String, RunInput> spectra = builder
                    .stream(Topics.SPECTRA, Consumed.with(Serdes.String(), TelemetrySerdes.spectra()).withName("spectra"))
                    .filter((key, snapshot) -> snapshot != null && validIds(snapshot.getRunId(), snapshot.getExperimentId()) && (!filter
                            || scope.includesExperiment(snapshot.getExperimentId()) && scope.includesIteration(snapshot.getIteration())),
                            Named.as("spectra-present"))
                    .map((key, snapshot) -> KeyValue.pair(frameKeyOf(snapshot), (RunInput) RunInput.Spectrum.of(snapshot)),
                            Named.as("spectrum-scalars"));
            events = events.merge(spectra, Named.as("runs-and-spectra"));
        }
        return iterations.merge(events.repartition(repartitioned("run-events-by-run", partitions)),
                Named.as("iterations-and-run-events"));
    }

    /** The key a snapshot meets its run under: the key of the run's frames, or its run id when it publishes per run. */
    static String frameKeyOf(SpectrumSnapshot snapshot) {
        return snapshot.getFrameKey() != null ? snapshot.getFrameKey() : snapshot.getRunId();
    }

    /** True if the experiment id and every run id of the frame follow the id rule; otherwise throws (see below). */
    static boolean validIds(Frame frame) {
        for (int i = 0; i < frame.size(); i++) {
            validIds(frame.runId(i), frame.experimentId());
        }
        return true;
    }

    /**
     * True if both ids follow the {@link Ids id rule}; otherwise throws, so that the processing exception
     * handler dead-letters the record with the reason (an id over 65,535 bytes could not even be written to
     * the repartition topic).
     *
     * @throws InvalidRecordException naming the id that is wrong
     */
    static boolean validIds(String runId, String experimentId) {
        if (Ids.isValid(runId) && Ids.isValid(experimentId)) {
            return true;
        }
        String problem = Ids.problem("run id", runId);
        throw new InvalidRecordException("invalid_id", problem != null ? problem : Ids.problem("experiment id", experimentId));
    }

    private static Repartitioned<String, RunInput> repartitioned(String name, int partitions) {
        Repartitioned<String, RunInput> repartitioned = Repartitioned.with(Serdes.String(), serde()).withName(name);
        return partitions > 0 ? repartitioned.withNumberOfPartitions(partitions) : repartitioned;
    }

    /** The serde of the re-keyed starts, finishes and spectrum scalars (an IterationMetrics never crosses). */
    public static Serde<RunInput> serde() {
        return Codec.serde(FORMAT, RunInputs::write, RunInputs::read);
    }

    private static void write(Codec.Out out, RunInput input) {
        if (input instanceof RunInput.Spectrum spectrum) {
            out.writeByte(SPECTRUM);
            out.writeUTF(spectrum.runId());
            out.writeUTF(spectrum.experimentId());
            out.writeInt(spectrum.iteration());
            out.writeByte(spectrum.values().length);
            for (double value : spectrum.values()) {
                out.writeDouble(value);
            }
        } else if (input instanceof RunInput.Started started) {
            out.writeByte(STARTED);
            out.writeUTF(started.runId());
            out.writeUTF(started.experimentId());
            out.writeInt(started.runIndex());
            out.writeUTF(started.optimizer());
            out.writeLong(started.parameterCount());
            out.writeUTF(started.frameKey());
            out.writeInt(started.shardIndex());
            out.writeInt(started.shardCount());
        } else if (input instanceof RunInput.Finished finished) {
            out.writeByte(FINISHED);
            out.writeUTF(finished.runId());
            out.writeUTF(finished.experimentId());
            out.writeUTF(finished.status().name());
            out.writeInt(finished.iterations());
            out.writeDouble(Codec.orNaN(finished.finalLoss()));
            out.writeBoolean(finished.finalLoss() != null);
            out.writeNullableString(finished.message());
            out.writeUTF(finished.frameKey());
        } else {
            throw new IllegalArgumentException("frames are read in place, never re-keyed");
        }
    }

    private static RunInput read(Codec.In in, byte format) {
        if (format != FORMAT && format != 1) {
            throw Codec.unknownFormat(format, "run input");
        }
        byte type = in.readByte();
        switch (type) {
            case SPECTRUM -> {
                String runId = in.readUTF();
                String experimentId = in.readUTF();
                int iteration = in.readInt();
                double[] values = new double[in.readByte()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.readDouble();
                }
                return new RunInput.Spectrum(runId, experimentId, iteration, values);
            }
            case STARTED -> {
                String runId = in.readUTF();
                String experimentId = in.readUTF();
                int runIndex = in.readInt();
                String optimizer = in.readUTF();
                long parameterCount = in.readLong();
                if (format == 1) {
                    return new RunInput.Started(runId, experimentId, runIndex, optimizer, parameterCount, runId);
                }
                String frameKey = in.readUTF();
                int shardIndex = in.readInt();
                int shardCount = in.readInt();
                return new RunInput.Started(runId, experimentId, runIndex, optimizer, parameterCount, frameKey, shardIndex,
                        shardCount);
            }
            case FINISHED -> {
                String runId = in.readUTF();
                String experimentId = in.readUTF();
                RunStatus status = RunStatus.valueOf(in.readUTF());
                int iterations = in.readInt();
                double finalLoss = in.readDouble();
                boolean present = in.readBoolean();
                String message = in.readNullableString();
                return new RunInput.Finished(runId, experimentId, status, iterations, present ? finalLoss : null,
                        message, format == 1 ? runId : in.readUTF());
            }
            default -> throw Codec.unknownFormat(type, "run input type");
        }
    }
}
