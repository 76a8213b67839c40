package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.client.InMemoryTelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetException;
import io.sgdscope.trainer.data.DatasetSettings;
import io.sgdscope.trainer.data.SmallDatasetFiles;
import io.sgdscope.trainer.data.Splits;
import io.sgdscope.trainer.model.PlainJavaMlp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs on the three datasets, with the test loss and accuracy of their held-out sets (Sec. A.1, A.2). */
class HeldOutDataTest {

    private static final List<Integer> LAYERS = List.of(50, 10, 30, 10);

    @TempDir
    Path dir;

    @Test
    void testLossAndAccuracyArePublishedEveryTestEveryIterationsAndEqualAPlainJavaEvaluation() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("held-out").runs(2).iterations(20).testEvery(7)
                .workers(1).curvature(CurvatureSettings.off()).build();
        Splits data = settings.dataset().load();
        Dataset test = data.test().orElseThrow();
        double[][] x = test.features().toDoubleMatrix();
        List<double[]> thetas = new ArrayList<>();
        StepObserver recorder = (runId, t, theta, gradient) -> {
            if (runId.endsWith("r00001")) {
                thetas.add(theta.toDoubleVector());
            }
        };
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings, data, sink, ExperimentListener.none(), recorder).run();

        List<IterationMetrics> records = sink.iterations("held-out-r00001");
        assertEquals(20, records.size());
        for (int t = 0; t < 20; t++) {
            IterationMetrics record = records.get(t);
            if (t % 7 == 0) {
                double loss = PlainJavaMlp.loss(LAYERS, thetas.get(t), x, test.labels());
                assertEquals(loss, record.getTestLoss(), 1e-12 * loss, "test loss at t = " + t);
                assertEquals(PlainJavaMlp.accuracy(LAYERS, thetas.get(t), x, test.labels()), record.getTestAccuracy(), 0.0);
            } else {
                assertNull(record.getTestLoss(), "no test evaluation at t = " + t);
                assertNull(record.getTestAccuracy());
            }
        }
    }

    @Test
    void aStandardisedGauss10RunGeneralisesToItsTestBlobs() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("generalises").runs(1).iterations(200)
                .testEvery(199).curvature(CurvatureSettings.off()).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        PerRunEngine.experiment(settings, sink, ExperimentListener.none()).run();
        IterationMetrics last = sink.iterations("generalises-r00000").get(199);
        // Separated blobs: what is learnt on 100 samples holds on 100 fresh ones (chance would be 0.1).
        assertTrue(last.getTestAccuracy() > 0.9, "test accuracy " + last.getTestAccuracy());
    }

    @Test
    void anMnistRunRecordsItsDataInRunStartedAndEvaluatesTheTestImages() throws IOException {
        Path mnist = dir.resolve("mnist");
        SmallDatasetFiles.writeMnist(mnist, 40, 12, 21);
        TrainerSettings settings = TrainerSettings.builder().experimentId("mnist-small").runs(1).iterations(6).batchSize(8)
                .dataset(DatasetSettings.mnist(mnist).withTrainLimit(30)).layers(List.of(784, 16, 10)).testEvery(5)
                .curvature(CurvatureSettings.off()).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        ExperimentResult result = PerRunEngine.experiment(settings, sink, ExperimentListener.none()).run();
        assertEquals(1, result.count(RunStatus.COMPLETED));

        RunStarted started = sink.runsStarted().get(0);
        assertEquals("mnist", started.getDataset().getName());
        assertEquals(30, started.getDataset().getSamples());
        assertEquals(784, started.getDataset().getInputDimension());
        assertEquals(10, started.getDataset().getClasses());
        assertTrue(started.getDataset().getStandardized());
        assertEquals(0L, started.getDataset().getSeed());
        assertEquals(mnist.toAbsolutePath().toString(), started.getDataset().getSource());
        assertEquals("mnist", started.getSettings().get("dataset.name"));
        assertEquals("30", started.getSettings().get("dataset.trainLimit"));
        assertEquals("custom", started.getSettings().get("model"));
        List<IterationMetrics> records = sink.iterations("mnist-small-r00000");
        assertNotNull(records.get(0).getTestLoss());
        assertNotNull(records.get(5).getTestLoss());
        assertNull(records.get(3).getTestLoss());
        assertTrue(records.get(5).getTestAccuracy() >= 0 && records.get(5).getTestAccuracy() <= 1);
    }

    @Test
    void missingFilesStopTheExperimentBeforeAnyRunStarts() throws IOException {
        Path cifar = Files.createDirectories(dir.resolve("cifar"));
        TrainerSettings settings = TrainerSettings.builder().experimentId("no-data").runs(1).iterations(2).batchSize(4)
                .dataset(DatasetSettings.cifar10(cifar)).layers(List.of(3072, 4, 10)).build();
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        DatasetException e = assertThrows(DatasetException.class, () -> PerRunEngine.experiment(settings, sink, ExperimentListener.none()));
        assertTrue(e.getMessage().startsWith("CIFAR-10 files missing in " + cifar.toAbsolutePath() + ": data_batch_1.bin"),
                e.getMessage());
        assertTrue(sink.runsStarted().isEmpty());
    }

    @Test
    void aBatchLargerThanTheFilesTrainingSetIsRejectedOnceItIsRead() throws IOException {
        Path mnist = dir.resolve("mnist");
        SmallDatasetFiles.writeMnist(mnist, 10, 3, 2);
        TrainerSettings settings = TrainerSettings.builder().experimentId("big-batch").batchSize(16)
                .dataset(DatasetSettings.mnist(mnist)).layers(List.of(784, 4, 10)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PerRunEngine.experiment(settings, new InMemoryTelemetrySink(), ExperimentListener.none()));
        assertEquals("batch size 16 is larger than the training set (n = 10)", e.getMessage());
    }
}
