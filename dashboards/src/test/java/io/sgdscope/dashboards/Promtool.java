package io.sgdscope.dashboards;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Debian's promtool (package prometheus; .ci/run installs it). */
final class Promtool {

    static final String BINARY = "/usr/bin/promtool";

    /** What promtool printed and how it exited. */
    record Result(int exitCode, String output) {}

    private Promtool() {}

    static Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(BINARY);
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(BINARY + " is missing: install Debian's prometheus package (.ci/run does)", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("promtool did not finish: " + command);
        }
        return new Result(process.exitValue(), output);
    }

    static Path dashboards() {
        return Path.of("").toAbsolutePath();
    }
}
