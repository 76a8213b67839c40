package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client's encoder and the Java serdes agree: records written by {@code clients/python} (its own body
 * writers, IterationMetrics by the one {@code Run.log} uses, the fingerprints of fingerprints.json) are read by
 * {@link TelemetrySerdes} into the values written.
 * Needs Debian's python3-avro (.ci/run installs it).
 */
class PythonClientEncodingTest {

    /** As many as encode_with_client.py's RANDOM_RECORDS. */
    private static final int RANDOM_RECORDS = 200;

    @TempDir
    Path dir;

    @Test
    void theJavaSerdesReadWhatThePythonClientEncodes() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("/usr/bin/python3", "src/test/python/encode_with_client.py", dir.toString())
                .redirectErrorStream(true);
        builder.environment().put("PYTHONPATH", Path.of("../clients/python/src").toAbsolutePath().toString());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS) && process.exitValue() == 0, "the Python client failed: " + out);

        IterationMetrics m = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, read("IterationMetrics"));
        assertEquals("py-r00003", m.getRunId());
        assertEquals(12, m.getIteration());
        assertEquals(2.5, m.getLoss());
        assertTrue(Double.isNaN(m.getMinibatchLoss()));
        assertEquals(-0.5, m.getSgCosPrev());
        assertNull(m.getTrainAccuracy());
        assertEquals(7.5, m.getHessianSpectralNorm());

        IterationMetrics edges = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, read("IterationMetricsEdges"));
        assertEquals("\u00e9\u6f22\ud83d\ude00-r99999", edges.getRunId());
        assertEquals(Integer.MAX_VALUE, edges.getIteration());
        assertEquals(Long.MIN_VALUE, edges.getTimestampMillis());
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(edges.getLoss()));
        assertEquals(Double.NEGATIVE_INFINITY, edges.getMinibatchLoss());
        assertEquals(Double.MIN_VALUE, edges.getStepSize());
        assertEquals(Integer.MIN_VALUE, edges.getBatchSize());
        assertNull(edges.getSgCosPrev());
        assertEquals(Double.MAX_VALUE, edges.getTestAccuracy());
        // random records (nulls, NaN, extremes, unicode ids) by the writer Run.log uses: Java reads each and, writing
        // it again, gives the same bytes, so every field was read as written
        for (int i = 0; i < RANDOM_RECORDS; i++) {
            byte[] python = read("IterationMetricsRandom-" + i);
            IterationMetrics decoded = TelemetrySerdes.iterations().deserialize(Topics.ITERATIONS, python);
            assertArrayEquals(python, TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, decoded), "record " + i);
        }

        Frame frame = TelemetrySerdes.frames().deserialize(Topics.ITERATIONS, read("IterationFrame"));
        assertEquals(List.of("py-r00000", "py-r00001"), frame.runIds());
        assertEquals(Double.POSITIVE_INFINITY, frame.value(FrameColumn.LOSS, 1), "loss of run 1");
        assertEquals(List.of(5, 7), frame.rows().stream().map(IterationMetrics::getBatchSize).toList());
        assertNull(frame.row(0).getSgCosPrev());
        assertEquals(0.125, frame.row(1).getSgCosPrev());
        assertEquals(0.75, frame.row(0).getTestAccuracy());
        assertNull(frame.row(1).getTestAccuracy());
        assertNull(frame.row(0).getGradNormSq());

        RunStarted started = (RunStarted) TelemetrySerdes.runs().deserialize(Topics.RUNS, read("RunStarted"));
        assertEquals(List.of(50, 10, 30, 10), started.getModel().getLayers());
        assertEquals(Map.of("torch", "1.13"), started.getVersions());
        assertEquals("py-r00000", started.getFrameKey());
        assertEquals(2, started.getPlannedRuns());
        RunFinished finished = (RunFinished) TelemetrySerdes.runs().deserialize(Topics.RUNS, read("RunFinished"));
        assertEquals(RunStatus.CANCELLED, finished.getStatus());
        assertEquals(2L, finished.getDroppedRecords());
        assertEquals(0.5, finished.getFinalLoss());

        SpectrumSnapshot s = TelemetrySerdes.spectra().deserialize(Topics.SPECTRA, read("SpectrumSnapshot"));
        assertEquals(List.of(3.0, -1.0), s.getHessianEigenvalues());
        assertEquals(List.of(List.of(0.25, 0.75), List.of(1.0, 0.0)), s.getHessianLayerLoadings());
        assertNull(s.getHessianFullSpectrum());
    }

    private byte[] read(String name) throws java.io.IOException {
        return Files.readAllBytes(dir.resolve(name + ".bin"));
    }
}
