package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** The repository this module was built from, read from the filesystem (tests run in the module's folder). */
final class SourceTree {

    /** Folders that are never part of the sources: build output, version control, installed tools. */
    private static final Set<String> SKIPPED = Set.of("target", ".git", "node_modules", ".mvn");

    private SourceTree() {}

    /** The repository's root: the parent of this module's folder, holding the reactor POM. */
    static Path root() {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(root != null && Files.isRegularFile(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("cli")),
                "the tests must run in the cli module's folder, under the repository root; ran in " + Path.of("").toAbsolutePath());
        return root;
    }

    /** Every regular file under {@code root}, relative to it, skipping build output and version control. */
    static List<Path> walk(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return !dir.equals(root) && SKIPPED.contains(dir.getFileName().toString())
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    files.add(root.relativize(file));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return files;
    }

    /**
     * The files git tracks under {@code root}, relative to it; without git (a copy of the sources that is
     * not a clone) every file {@link #walk} finds.
     */
    static List<Path> trackedFiles(Path root) throws IOException, InterruptedException {
        Process git;
        try {
            git = new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException noGit) {
            return walk(root);
        }
        byte[] out;
        try (InputStream in = git.getInputStream()) {
            out = in.readAllBytes();
        }
        if (!git.waitFor(60, TimeUnit.SECONDS) || git.exitValue() != 0) {
            git.destroyForcibly();
            return walk(root);                                             // not a git work tree
        }
        List<Path> files = new ArrayList<>();
        for (String name : new String(out, StandardCharsets.UTF_8).split("\0")) {
            if (!name.isEmpty() && Files.isRegularFile(root.resolve(name))) {   // tracked but deleted: gone
                files.add(Path.of(name));
            }
        }
        return files;
    }
}
