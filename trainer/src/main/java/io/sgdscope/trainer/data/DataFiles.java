package io.sgdscope.trainer.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/** Finding and opening dataset files: each may be stored plain or gzipped ({@code name} or {@code name.gz}). */
final class DataFiles {

    private DataFiles() {}

    /** The file {@code name} or {@code name.gz} in {@code dir}, if either exists. */
    static Optional<Path> find(Path dir, String name) {
        for (String candidate : List.of(name, name + ".gz")) {
            Path path = dir.resolve(candidate);
            if (Files.isRegularFile(path)) {
                return Optional.of(path);
            }
        }
        return Optional.empty();
    }

    /** The files of {@code names} in {@code dir}; a clear error naming every missing one and where it belongs. */
    static List<Path> require(Path dir, String dataset, List<String> names, String howToGet) {
        List<Path> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            find(dir, name).ifPresentOrElse(found::add, () -> missing.add(name));
        }
        if (!missing.isEmpty()) {
            String folder = dir.toAbsolutePath() + (Files.isDirectory(dir) ? "" : " (no such folder)");
            throw new DatasetException(dataset + " files missing in " + folder + ": " + String.join(", ", missing)
                    + " (plain or .gz; " + howToGet + ")");
        }
        return found;
    }

    /** Opens a file for reading, transparently un-gzipping it when it starts with the gzip magic bytes. */
    static DataInputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return new DataInputStream(in);
    }

    /** Reads exactly {@code buffer.length} bytes, or fails naming the file and how much was missing. */
    static void readFully(DataInputStream in, byte[] buffer, Path file, String what) {
        try {
            in.readFully(buffer);
        } catch (EOFException e) {
            throw new DatasetException(file.getFileName() + " is truncated: it ends inside " + what + " ("
                    + buffer.length + " bytes expected there)", e);
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
