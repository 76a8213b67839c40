package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The repository documents itself: nothing in it points at the team's notes in the folder {@code shared}
 * beside the clone, which a clone does not have; what the product needs of them lives in {@code docs/}.
 * The CI scripts ({@code .ci/}) run on the team's machines and may use that folder.
 */
class SelfContainedRepositoryTest {

    /** Assembled here, so that this file does not hold the string it looks for. */
    private static final String SHARED_FOLDER = ".." + "/shared";

    @Test
    void noTrackedFileOutsideCiMentionsTheSharedNotesFolder() throws Exception {
        Path root = SourceTree.root();
        List<Path> files = SourceTree.trackedFiles(root);
        assertTrue(files.contains(Path.of("README.md")) && files.contains(Path.of("docs", "README.md")),
                "the repository's files were not found under " + root);
        Set<String> offenders = new TreeSet<>();
        for (Path file : files) {
            if (file.getName(0).toString().equals(".ci")) {
                continue;
            }
            // Latin-1 maps every byte to one char: binary files are read without errors, ASCII matches as is.
            String content = new String(Files.readAllBytes(root.resolve(file)), StandardCharsets.ISO_8859_1);
            if (content.contains(SHARED_FOLDER)) {
                offenders.add(file.toString());
            }
        }
        assertEquals(Set.of(), offenders, "files that point at " + SHARED_FOLDER + " (move what they need into docs/)");
    }
}
