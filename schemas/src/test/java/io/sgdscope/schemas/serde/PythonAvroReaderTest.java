package io.sgdscope.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An independent Avro implementation, Debian's python3-avro, reads what our serde writes, using
 * nothing but our .avsc file. .ci/run installs the package; without it this test fails.
 */
class PythonAvroReaderTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final Path SCRIPT = Path.of("src/test/python/decode_single_object.py");

    @TempDir
    Path dir;

    @Test
    void pythonAvroDecodesAnIterationRecordWrittenByOurSerde() throws Exception {
        IterationMetrics record = SampleRecords.iterationMetrics();
        JsonNode decoded = decodeWithPython("IterationMetrics", TelemetrySerdes.iterations().serialize(Topics.ITERATIONS, record));

        assertEquals(decoded.get("fingerprint_python").asText(), decoded.get("fingerprint_header").asText(),
                "python computes the same fingerprint from the .avsc file as the header carries");
        JsonNode fields = decoded.get("record");
        assertEquals(record.getRunId(), fields.get("runId").asText());
        assertEquals(record.getIteration(), fields.get("iteration").asInt());
        assertEquals(record.getLoss(), fields.get("loss").asDouble());
        assertEquals(record.getSgCosPrev(), fields.get("sgCosPrev").asDouble());
        assertEquals(record.getHessianSpectralNorm(), fields.get("hessianSpectralNorm").asDouble());
    }

    @Test
    void pythonAvroDecodesAFrameWrittenByOurCodec() throws Exception {
        io.sgdscope.schemas.frames.Frame frame = FrameSerdeTest.sampleFrame();
        JsonNode decoded = decodeWithPython("IterationFrame", TelemetrySerdes.frames().serialize(Topics.ITERATIONS, frame));

        assertEquals(decoded.get("fingerprint_python").asText(), decoded.get("fingerprint_header").asText(),
                "python computes the same fingerprint from IterationFrame.avsc as the header carries");
        JsonNode fields = decoded.get("record");
        assertEquals(frame.runIds().toString(), fields.get("runIds").toString().replace("\"", "").replace(",", ", ")
                .replace("\\u00e9", "\u00e9"));
        assertEquals("[2.25,\"NaN\",0.125]", fields.get("loss").toString());
        assertEquals("[2.0,\"Infinity\",-0.0]", fields.get("minibatchLoss").toString());
        assertEquals("[5,5,1000000]", fields.get("batchSize").toString());
        assertEquals("[-0.25,\"NaN\",null]", fields.get("sgCosPrev").toString());
        assertEquals("[20.0,21.0,\"-Infinity\"]", fields.get("traceM").toString());
        assertTrue(fields.get("gradNormSq").isNull(), "an absent column is null");
        assertEquals(7, fields.get("iteration").asInt());
    }

    @Test
    void pythonAvroDecodesNestedRecordsMapsEnumsAndNaN() throws Exception {
        RunStarted started = SampleRecords.runStarted();
        JsonNode s = decodeWithPython("RunStarted", TelemetrySerdes.runs().serialize(Topics.RUNS, started)).get("record");
        assertEquals(started.getModel().getLayers().toString(), s.get("model").get("layers").toString().replace(",", ", "));
        assertEquals(started.getDataset().getRandomLabelFraction(), s.get("dataset").get("randomLabelFraction").asDouble());
        assertEquals("1.0.0-M2.1", s.get("versions").get("nd4j").asText());

        RunFinished finished = SampleRecords.runFinished();
        JsonNode f = decodeWithPython("RunFinished", TelemetrySerdes.runs().serialize(Topics.RUNS, finished)).get("record");
        assertEquals("DIVERGED", f.get("status").asText());
        assertEquals("NaN", f.get("finalLoss").asText());
    }

    @Test
    void pythonAvroDecodesTheMatvecCountsOfASpectrumSnapshot() throws Exception {
        SpectrumSnapshot snapshot = SampleRecords.spectrumSnapshot();
        JsonNode decoded = decodeWithPython("SpectrumSnapshot", TelemetrySerdes.spectra().serialize(Topics.SPECTRA, snapshot));

        assertEquals(decoded.get("fingerprint_python").asText(), decoded.get("fingerprint_header").asText(),
                "python computes the same fingerprint from SpectrumSnapshot.avsc as the header carries");
        JsonNode fields = decoded.get("record");
        assertEquals(60, fields.get("hessianMatvecs").asInt());
        assertTrue(fields.get("secondMomentMatvecs").isNull(), "a count not reported stays null");
        assertEquals(27, fields.get("predictionHessianMatvecs").asInt());
        assertEquals(snapshot.getHessianEigenvalues().toString(), fields.get("hessianEigenvalues").toString().replace(",", ", "));
    }

    private JsonNode decodeWithPython(String recordName, byte[] message) throws IOException, InterruptedException {
        Path bin = dir.resolve(recordName + ".bin");
        Files.write(bin, message);
        Path schema = Path.of("src/main/avro", recordName + ".avsc");
        Process process = new ProcessBuilder(PYTHON, SCRIPT.toString(), schema.toString(), bin.toString())
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError("python3-avro could not decode " + recordName + " (is Debian's python3-avro installed? "
                    + ".ci/run installs it): " + err);
        }
        return new ObjectMapper().readTree(out);
    }

}
