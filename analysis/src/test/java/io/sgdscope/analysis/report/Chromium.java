package io.sgdscope.analysis.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's Chromium, headless, as a test tool: loads a page and takes a screenshot of it. */
final class Chromium {

    static final String BINARY = "/usr/bin/chromium";

    /** How Chromium ended and what it printed (to explain a failure). */
    record Result(int exitCode, String output) {}

    private Chromium() {}

    static Result screenshot(Path page, Path png, Path profile) throws IOException, InterruptedException {
        // The flags keep Chromium off the network (closed here) and out of the desktop session.
        Process process;
        try {
            process = new ProcessBuilder(BINARY, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--window-size=1000,7000",
                    "--screenshot=" + png, page.toUri().toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(BINARY + " is missing: install Debian's chromium package (.ci/run does)", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("chromium did not finish:\n" + output);
        }
        return new Result(process.exitValue(), output);
    }
}
