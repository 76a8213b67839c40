package io.sgdscope.trainer.checkpoint;

import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.optim.OptimizerState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The checkpoints of one experiment: one file per run, {@code <dir>/<experimentId>/<runId>.ckpt}, replaced
 * atomically (written to {@code <runId>.ckpt.tmp}, forced to disk, then renamed over the old one), so a
 * crash at any moment leaves either the previous checkpoint or the new one, never a mix. Thread-safe: runs
 * write their own files.
 *
 * <p><b>What the trainer publishes twice, and where duplicates are dropped.</b> A checkpoint is written only
 * once the records of the iterations it covers were acknowledged by the broker
 * ({@link io.sgdscope.client.TelemetrySink#delivery}); training does not wait for that, the
 * checkpoint is written at a later iteration when its records are in. So a run continued from its last
 * checkpoint never has a gap. After a crash it does publish again the iterations between that checkpoint
 * and the crash, because nothing tells the trainer which of them reached the broker; the records are
 * bit-identical except their wall-clock timestamp (training is deterministic for a seed). The trainer does
 * not suppress them: the streams apps drop every record of a (runId, iteration) they have already counted
 * (counted in {@code sgdscope_duplicate_iteration_records_total}, and by the deviation app as skipped
 * duplicates). A resumed run also publishes its RunStarted again, the very record of its first start:
 * {@code sgd.runs} is compacted by key and the streams apps take the first start of a run. After Ctrl-C
 * nothing is published twice: a stopped run waits for its records and then saves its state at the
 * iteration it stopped at, and publishes no RunFinished (it is suspended, not finished: the streams apps
 * close a run at its RunFinished and skip later records as late).
 *
 * <p>File format (big-endian, {@link DataOutputStream}): the text {@value #MAGIC}, the format version, a header
 * (run id, how the run finished or "", next iteration, records published, the RunStarted in Avro
 * single-object encoding), the body (counters, theta, g_{t-1}, L, the probe's and the optimizer's state) and
 * a CRC-32 of everything before it.
 */
public final class CheckpointStore {

    static final String MAGIC = "sgdscope-checkpoint";
    static final int VERSION = 1;
    static final String SUFFIX = ".ckpt";
    /** A RunFinished not known to be delivered: {@code <runId>.finished}, its Avro single-object encoding. */
    static final String UNSENT_SUFFIX = ".finished";

    private final Path folder;

    /** The checkpoints of experiment {@code experimentId} under {@code dir} (the folder is made on the first write). */
    public CheckpointStore(Path dir, String experimentId) {
        this.folder = dir.resolve(experimentId);
    }

    /** The header of a checkpoint: enough to plan a resume without reading theta. */
    public record Header(RunStarted runStarted, RunStatus finished, int nextIteration, int published) {

        public boolean isFinished() {
            return finished != null;
        }
    }

    /** {@code <dir>/<experimentId>}. */
    public Path folder() {
        return folder;
    }

    /** The file of a run's checkpoint. */
    public Path file(String runId) {
        return folder.resolve(runId + SUFFIX);
    }

    /** Whether any run of the experiment has a checkpoint. */
    public boolean isEmpty() {
        if (!Files.isDirectory(folder)) {
            return true;
        }
        try (var files = Files.list(folder)) {
            return files.noneMatch(f -> f.getFileName().toString().endsWith(SUFFIX));
        } catch (IOException e) {
            throw new CheckpointException("cannot list the checkpoints in " + folder + ": " + e.getMessage(), e);
        }
    }

    /**
     * Replaces the run's checkpoint, atomically.
     *
     * @throws CheckpointException naming the file when it cannot be written
     */
    public void write(RunCheckpoint checkpoint) {
        Path file = file(checkpoint.runId());
        Path temporary = folder.resolve(checkpoint.runId() + SUFFIX + ".tmp");
        try {
            Files.createDirectories(folder);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                CheckedOutputStream checked = new CheckedOutputStream(
                        new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16), new CRC32());
                DataOutputStream out = new DataOutputStream(checked);
                writeTo(out, checkpoint);
                out.flush();
                out.writeLong(checked.getChecksum().getValue());
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot write the checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps a run's RunFinished until its delivery is confirmed ({@link #clearUnsent}): written before it is handed to
     * the sink, so that after a failed delivery, or a crash, {@code --resume} sends it again.
     */
    public void writeUnsent(RunFinished finished) {
        Path file = folder.resolve(finished.getRunId() + UNSENT_SUFFIX);
        Path temporary = folder.resolve(finished.getRunId() + UNSENT_SUFFIX + ".tmp");
        try {
            Files.createDirectories(folder);
            Files.write(temporary, TelemetrySerdes.runs().serialize(Topics.RUNS, finished));
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The run's RunFinished whose delivery was not confirmed, if there is one. */
    public Optional<RunFinished> unsent(String runId) {
        Path file = folder.resolve(runId + UNSENT_SUFFIX);
        try {
            return Optional.of((RunFinished) TelemetrySerdes.runs().deserialize(Topics.RUNS, Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("cannot read the unsent RunFinished " + file + ": " + e.getMessage(), e);
        }
    }

    /** Forgets the run's unsent RunFinished: the broker has it. */
    public void clearUnsent(String runId) {
        Path file = folder.resolve(runId + UNSENT_SUFFIX);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new CheckpointException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The run's checkpoint, checked against its CRC, if it has one.
     *
     * @throws CheckpointException naming the file when it is damaged, truncated or not a checkpoint
     */
    public Optional<RunCheckpoint> read(String runId) {
        Path file = file(runId);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            CheckedInputStream checked = new CheckedInputStream(raw, new CRC32());
            DataInputStream in = new DataInputStream(checked);
            Header header = readHeader(in, file);
            RunCheckpoint checkpoint = readBody(in, header);
            long computed = checked.getChecksum().getValue();
            long stored = in.readLong();
            if (computed != stored) {
                throw new CheckpointException("the checkpoint " + file + " is damaged (its checksum does not match)");
            }
            return Optional.of(checkpoint);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (EOFException e) {
            throw new CheckpointException("the checkpoint " + file + " is truncated", e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read the checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The header of the run's checkpoint, if it has one (the body is not read, nor checked).
     *
     * @throws CheckpointException naming the file when it is not a checkpoint
     */
    public Optional<Header> readHeader(String runId) {
        Path file = file(runId);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 14))) {
            return Optional.of(readHeader(in, file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (EOFException e) {
            throw new CheckpointException("the checkpoint " + file + " is truncated", e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read the checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeTo(DataOutputStream out, RunCheckpoint c) throws IOException {
        out.writeUTF(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(c.runId());
        out.writeUTF(c.finished() == null ? "" : c.finished().name());
        out.writeInt(c.nextIteration());
        out.writeInt(c.published());
        byte[] started = TelemetrySerdes.runs().serialize(Topics.RUNS, c.runStarted());
        out.writeInt(started.length);
        out.write(started);

        out.writeLong(c.droppedRecords());
        out.writeDouble(c.elapsedSeconds());
        out.writeLong(c.batchesDrawn());
        writeDoubles(out, c.theta());
        writeDoubles(out, c.previousGradient());
        out.writeDouble(c.previousNorm());
        out.writeDouble(c.latestL());
        SpectrumProbe.State probe = c.probe();
        out.writeInt(probe.calls());
        writeDoubles(out, probe.hessianDirection());
        writeDoubles(out, probe.secondMomentDirection());
        writeDoubles(out, probe.predictionDirection());
        writeDoubles(out, probe.hessianTop());
        writeDoubles(out, probe.hessianBottom());
        OptimizerState optimizer = c.optimizer();
        out.writeUTF(optimizer.name());
        out.writeInt(optimizer.scalars().size());
        for (Map.Entry<String, Double> entry : optimizer.scalars().entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeDouble(entry.getValue());
        }
        out.writeInt(optimizer.vectors().size());
        for (Map.Entry<String, double[]> entry : optimizer.vectors().entrySet()) {
            out.writeUTF(entry.getKey());
            writeDoubles(out, entry.getValue());
        }
    }

    private static Header readHeader(DataInputStream in, Path file) throws IOException {
        String magic;
        try {
            magic = in.readUTF();
        } catch (IOException e) {
            throw new CheckpointException(file + " is not an sgdscope checkpoint", e);
        }
        if (!MAGIC.equals(magic)) {
            throw new CheckpointException(file + " is not an sgdscope checkpoint");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new CheckpointException(file + " is a checkpoint of format " + version + "; this sgdscope reads format "
                    + VERSION);
        }
        String runId = in.readUTF();
        String finished = in.readUTF();
        int next = in.readInt();
        int published = in.readInt();
        byte[] started = new byte[in.readInt()];
        in.readFully(started);
        RunStarted runStarted = (RunStarted) TelemetrySerdes.runs().deserialize(Topics.RUNS, started);
        if (!runStarted.getRunId().equals(runId)) {
            throw new CheckpointException(file + " holds run " + runStarted.getRunId() + ", not " + runId);
        }
        return new Header(runStarted, finished.isEmpty() ? null : RunStatus.valueOf(finished), next, published);
    }

    private static RunCheckpoint readBody(DataInputStream in, Header header) throws IOException {
        long dropped = in.readLong();
        double elapsed = in.readDouble();
        long batches = in.readLong();
        double[] theta = readDoubles(in);
        double[] previous = readDoubles(in);
        double previousNorm = in.readDouble();
        double latestL = in.readDouble();
        int calls = in.readInt();
        SpectrumProbe.State probe = new SpectrumProbe.State(calls, readDoubles(in), readDoubles(in), readDoubles(in),
                readDoubles(in), readDoubles(in));
        String name = in.readUTF();
        Map<String, Double> scalars = new LinkedHashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            scalars.put(in.readUTF(), in.readDouble());
        }
        Map<String, double[]> vectors = new LinkedHashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            vectors.put(in.readUTF(), readDoubles(in));
        }
        return new RunCheckpoint(header.runStarted(), header.finished(), header.nextIteration(),
                header.published(), dropped, elapsed, batches, theta, previous == null ? new double[0] : previous,
                previousNorm, latestL, probe, new OptimizerState(name, scalars, vectors));
    }

    /** Length (-1 for null), then the values in bulk. */
    private static void writeDoubles(DataOutputStream out, double[] values) throws IOException {
        if (values == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(values.length);
        ByteBuffer buffer = ByteBuffer.allocate(8 * Math.min(values.length, 8192));
        for (int from = 0; from < values.length; from += 8192) {
            int to = Math.min(values.length, from + 8192);
            buffer.clear();
            buffer.asDoubleBuffer().put(values, from, to - from);
            out.write(buffer.array(), 0, 8 * (to - from));
        }
    }

    private static double[] readDoubles(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        double[] values = new double[length];
        byte[] bytes = new byte[8 * Math.min(length, 8192)];
        for (int from = 0; from < length; from += 8192) {
            int to = Math.min(length, from + 8192);
            in.readFully(bytes, 0, 8 * (to - from));
            ByteBuffer.wrap(bytes, 0, 8 * (to - from)).asDoubleBuffer().get(values, from, to - from);
        }
        return values;
    }
}
