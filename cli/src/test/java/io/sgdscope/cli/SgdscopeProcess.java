package io.sgdscope.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The real {@code sgdscope} command (the shaded jar the launcher runs) as a child process of a test. */
final class SgdscopeProcess implements AutoCloseable {

    static final Path JAR = Path.of("target", "sgdscope.jar");

    private final Process process;
    private final List<String> out = new ArrayList<>();
    private final List<String> err = new ArrayList<>();
    private final Thread outReader;
    private final Thread errReader;

    private SgdscopeProcess(Process process) {
        this.process = process;
        this.outReader = pump(process.getInputStream(), out, "stdout");
        this.errReader = pump(process.getErrorStream(), err, "stderr");
    }

    static SgdscopeProcess start(String... args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: integration tests run after 'package'");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx1g", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new SgdscopeProcess(new ProcessBuilder(command).start());
    }

    /** Runs to the end (bounded) and returns the exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("sgdscope did not end within " + timeout + "\nstdout:\n" + String.join("\n", stdout())
                    + "\nstderr:\n" + String.join("\n", stderr()));
        }
        outReader.join(5_000);
        errReader.join(5_000);
        return process.exitValue();
    }

    /** Waits for a stdout line matching the pattern and returns its match. */
    Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (System.nanoTime() < deadline) {
            List<String> lines = stdout();
            for (; seen < lines.size(); seen++) {
                Matcher matcher = pattern.matcher(lines.get(seen));
                if (matcher.find()) {
                    return matcher;
                }
            }
            if (!process.isAlive() && !outReader.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no line matching " + pattern + " within " + timeout + "\nstdout:\n"
                + String.join("\n", stdout()) + "\nstderr:\n" + String.join("\n", stderr()));
    }

    /**
     * SIGTERM, as a service manager (or, like SIGINT, Ctrl-C) stops it. Sent through the process handle:
     * {@code Process.destroy()} would also close our ends of its stdout and stderr, losing what it prints
     * while it shuts down.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    List<String> stdout() {
        synchronized (out) {
            return List.copyOf(out);
        }
    }

    List<String> stderr() {
        synchronized (err) {
            return List.copyOf(err);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private static Thread pump(InputStream stream, List<String> lines, String name) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                }
            } catch (IOException e) {
                // The process ended.
            }
        }, "sgdscope-" + name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
