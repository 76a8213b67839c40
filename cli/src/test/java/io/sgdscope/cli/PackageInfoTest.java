package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every package of main code says what it holds and what it may depend on, in a package-info.java. Main
 * code is every source folder {@code <module>/src/<set>/java} but the tests' ({@code bench/streams} too);
 * a package that a backend's folder ({@code src/cpu/java}, {@code src/cuda/java}) adds to is documented
 * once, in the module's {@code src/main/java} (a second package-info would not compile).
 */
class PackageInfoTest {

    @Test
    void everyMainPackageHasAPackageInfo() throws Exception {
        Path root = SourceTree.root();
        Set<String> packages = new TreeSet<>();
        Set<String> undocumented = new TreeSet<>();
        for (Path file : SourceTree.walk(root)) {
            String name = file.getFileName().toString();
            if (!name.endsWith(".java") || name.equals("package-info.java")) {
                continue;
            }
            Path sourceRoot = sourceRoot(file);
            if (sourceRoot == null) {
                continue;                                                  // a test, or not under src/<set>/java
            }
            Path packageDir = sourceRoot.relativize(file.getParent());
            Path module = sourceRoot.getParent().getParent().getParent();    // <module>/src/<set>/java
            String pkg = packageDir.toString().replace(file.getFileSystem().getSeparator(), ".");
            packages.add(pkg);
            Path info = root.resolve(module).resolve("src/main/java").resolve(packageDir).resolve("package-info.java");
            if (!Files.isRegularFile(info)) {
                undocumented.add(pkg + " (" + module.resolve("src/main/java").resolve(packageDir) + ")");
            }
        }
        // The walk must have seen the main code at all, or an empty result would prove nothing.
        assertTrue(packages.containsAll(List.of("io.sgdscope.cli", "io.sgdscope.trainer.model", "io.sgdscope.streams.deviation")),
                "main packages found: " + packages);
        assertEquals(Set.of(), undocumented, "main packages without a package-info.java");
    }

    /** {@code <module>/src/<set>/java} of a source file in a non-test source set, or null. */
    private static Path sourceRoot(Path file) {
        for (int i = 0; i + 2 < file.getNameCount(); i++) {
            if (file.getName(i).toString().equals("src") && file.getName(i + 2).toString().equals("java")) {
                String set = file.getName(i + 1).toString();
                if (set.equals("test") || i == 0) {
                    return null;                                       // tests; or src/ at the root (no module)
                }
                return file.subpath(0, i + 3);
            }
        }
        return null;
    }
}
