package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** ND4J is an optional dependency: a plain-Java caller publishes double[] and float[] arrays without it. */
class ClientWithoutNd4jTest {

    @Test
    void aLoopWithPlainArraysRunsInAJvmWithoutNd4j() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("nd4j") && !entry.contains("bytedeco") && !entry.contains("javacpp"))
                .collect(Collectors.joining(File.pathSeparator));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", classPath, PlainJavaMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(true, process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("nd4j") || l.startsWith("t=")).toList();
        assertEquals(List.of("nd4j on class path: false", "t=0 sgNorm=5.0 cos=null", "t=1 sgNorm=5.0 cos=0.96"), lines,
                "||(3,4)|| = ||(4,3)|| = 5, cos = 24/25; output was:\n" + out);
    }
}
