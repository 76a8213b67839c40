package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.checkpoint.CheckpointSettings;
import io.sgdscope.trainer.data.DatasetSettings;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.optim.OptimizerSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The trainer options of {@code sgdscope train} (and {@code demo}) become TrainerSettings, checked before anything starts. */
class TrainerOptionsTest {

    @TempDir
    Path dir;

    private static TrainerSettings settings(String... args) {
        TrainCommand command = new TrainCommand();
        new CommandLine(command).parseArgs(args);
        return command.trainer.toSettings();
    }

    private static String badArgument(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> settings(args)).getMessage();
    }

    @Test
    void anExperimentIdThatIsNotAValidIdIsABadArgumentOfOneLine() {
        assertEquals("--experiment: experiment id must not be '..' (it names a folder)", badArgument("--experiment", ".."));
        assertEquals("--experiment: experiment id must not be '.' (it names a folder)", badArgument("--experiment", "."));
        assertEquals("--experiment: experiment id 'a/b' has characters other than A-Z a-z 0-9 . _ -",
                badArgument("--experiment", "a/b"));
        assertTrue(badArgument("--experiment", "e".repeat(94)).startsWith("--experiment: experiment id is 94 characters long"));

        StringWriter err = new StringWriter();
        CommandLine commandLine = Sgdscope.commandLine();
        commandLine.setErr(new PrintWriter(err));
        // Refused before Kafka is contacted (no broker listens on port 1).
        assertEquals(Sgdscope.EXIT_BAD_ARGUMENTS, commandLine.execute("train", "--experiment", "..", "--bootstrap-servers", "127.0.0.1:1"));
        assertEquals(List.of("sgdscope train: --experiment: experiment id must not be '..' (it names a folder) (see 'sgdscope train --help')"),
                err.toString().lines().toList());
    }

    @Test
    void withoutOptionsTheSettingsAreTheTrainersDefaults() {
        TrainerSettings parsed = settings("--experiment", "gauss10", "--workers", "3");
        assertEquals(TrainerSettings.defaults().toBuilder().workers(3).engine(io.sgdscope.trainer.Engine.ENSEMBLE).build(), parsed);
    }

    @Test
    void theEnsembleEngineIsTheOnlyEngineAndPerRunIsRefusedAsRetired() {
        TrainerSettings ensemble = settings("--ensemble-block", "250", "--runs", "1000");
        assertEquals(io.sgdscope.trainer.Engine.ENSEMBLE, ensemble.engine());
        assertEquals(250, ensemble.ensembleBlock());
        assertEquals(io.sgdscope.trainer.Engine.ENSEMBLE, settings("--engine", "ensemble").engine(), "still accepted");
        assertEquals(io.sgdscope.trainer.Engine.ENSEMBLE, settings("--runs", "1").engine(), "a block of one run");
        assertEquals("--engine per-run was retired: sgdscope has one engine, ensemble (a block of one run gives the "
                + "per-run engine's records); drop --engine", badArgument("--engine", "per-run"));
        assertEquals("unknown engine 'batched': the only engine is ensemble", badArgument("--engine", "batched"));
        assertTrue(badArgument("--ensemble-block", "-1").contains("ensemble block"));
        assertEquals(0, settings().ensembleBlock(), "automatic by default");
        assertEquals("adam", settings("--optimizer", "adam").optimizer().name());
    }

    @Test
    void gaussKProbesTheMomentsEveryTenIterationsAndASpectrumEveryTwoHundredByDefault() {
        assertEquals(io.sgdscope.trainer.curvature.CurvatureSettings.DEFAULT_MOMENTS_EVERY, settings().curvature().momentsEvery());
        assertEquals(10, settings().curvature().momentsEvery());
        assertEquals(200, settings().curvature().spectrumEvery());
        assertEquals(0, settings("--moments-every", "0", "--runs", "10000").curvature().momentsEvery());
        assertEquals(0, settings("--spectrum-every", "0").curvature().spectrumEvery());
    }

    @Test
    void gaussKOptionsDescribeTheBlobsAndTheirTestSet() {
        TrainerSettings parsed = settings("--samples", "200", "--classes", "2", "--random-labels", "0.2", "--data-seed", "7",
                "--no-standardize", "--test-samples", "50", "--test-every", "25", "--model", "gauss2", "--batch-size", "50");
        assertEquals(new DatasetSettings("gauss-k", new GaussKSettings(200, 50, 2, 0.2, 7, false), null, 0, true, 50),
                parsed.dataset());
        assertEquals(25, parsed.testEvery());
        assertEquals(List.of(50, 10, 30, 2), parsed.layers());
        assertEquals(50, parsed.batchSize());
        assertTrue(parsed.experimentId().startsWith("gauss2-"), parsed.experimentId());
        assertFalse(settings("--no-test-set").dataset().testSet());
    }

    @Test
    void mnistTakesItsFolderLimitsAndTable3Defaults() throws IOException {
        writeMnist(dir);
        TrainerSettings limited = settings("--dataset", "mnist", "--data-dir", dir.toString(), "--samples", "30",
                "--test-samples", "5", "--batch-size", "8");
        assertEquals(DatasetSettings.mnist(dir).withTrainLimit(30).withTestSamples(5), limited.dataset());
        assertEquals(8, limited.batchSize());
        TrainerSettings parsed = settings("--dataset", "mnist", "--data-dir", dir.toString());
        assertEquals(DatasetSettings.mnist(dir), parsed.dataset());
        assertEquals(List.of(784, 128, 128, 128, 10), parsed.layers(), "mnist-mlp3 (Table 3) by default");
        assertEquals(64, parsed.batchSize());
        assertEquals(0, parsed.curvature().momentsEvery(), "no full-batch probes on 60,000 samples unless asked for");
        assertEquals(0, parsed.curvature().spectrumEvery());
        assertTrue(parsed.experimentId().startsWith("mnist-"), parsed.experimentId());
        assertEquals(List.of(784, 128, 128, 128, 128, 128, 128, 10),
                settings("--dataset", "mnist", "--data-dir", dir.toString(), "--model", "mnist-mlp6").layers());
    }

    @Test
    void missingDataFilesAreARuntimeFailureNamingThemAndWhere() throws IOException {
        writeMnist(dir);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        SgdscopeException e = assertThrows(SgdscopeException.class,
                () -> settings("--dataset", "mnist", "--data-dir", dir.toString()));
        assertTrue(e.getMessage().startsWith("MNIST files missing in " + dir.toAbsolutePath() + ": t10k-labels-idx1-ubyte "
                + "(plain or .gz; put the four standard MNIST IDX files there"), e.getMessage());
        // Without the test set its files are not needed.
        assertFalse(settings("--dataset", "mnist", "--data-dir", dir.toString(), "--no-test-set").dataset().testSet());
        Path cifar = dir.resolve("cifar");
        e = assertThrows(SgdscopeException.class, () -> settings("--dataset", "cifar10", "--data-dir", cifar.toString()));
        assertTrue(e.getMessage().startsWith("CIFAR-10 files missing in " + cifar.toAbsolutePath() + " (no such folder): "
                + "data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin"),
                e.getMessage());
    }

    @Test
    void aModelThatDoesNotFitTheDatasetOrDisagreesWithLayersIsABadArgument() throws IOException {
        writeMnist(dir);
        assertEquals("model gauss10 [50, 10, 30, 10] needs d = 50 and k = 10, the dataset mnist has d = 784 and k = 10",
                badArgument("--dataset", "mnist", "--data-dir", dir.toString(), "--model", "gauss10"));
        assertEquals("model cifar-mlp3 [3072, 256, 256, 256, 10] needs d = 3072 and k = 10, the dataset gauss-k has d = 50 "
                + "and k = 10", badArgument("--model", "cifar-mlp3"));
        assertEquals("--model gauss10 is [50, 10, 30, 10] but --layers gives [50, 20, 10]: give one of them",
                badArgument("--model", "gauss10", "--layers", "50,20,10"));
        assertEquals(List.of(50, 10, 30, 10), settings("--model", "gauss10", "--layers", "50,10,30,10").layers(),
                "both may be given when they agree");
        assertEquals("unknown model 'vgg' (known: gauss2, gauss10, mnist-mlp3, mnist-mlp4, mnist-mlp5, mnist-mlp6, "
                + "cifar-mlp3, cifar-mlp6)", badArgument("--model", "vgg"));
    }

    @Test
    void optionsOfAnotherDatasetAreBadArguments() throws IOException {
        writeMnist(dir);
        assertEquals("--random-labels applies to --dataset gauss-k only, not mnist",
                badArgument("--dataset", "mnist", "--data-dir", dir.toString(), "--random-labels", "0.1"));
        assertEquals("--standardize/--no-standardize applies to --dataset gauss-k only, not mnist",
                badArgument("--dataset", "mnist", "--data-dir", dir.toString(), "--no-standardize"));
        assertEquals("--data-dir is for mnist and cifar10; gauss-k is generated (--data-seed)",
                badArgument("--data-dir", dir.toString()));
        assertEquals("--dataset cifar10 needs --data-dir DIR, the folder of its files", badArgument("--dataset", "cifar10"));
        assertEquals("unknown dataset 'svhn' (known: gauss-k, mnist, cifar10)", badArgument("--dataset", "svhn"));
        assertEquals("test-every must be >= 0 (0 = never), got -1", badArgument("--test-every", "-1"));
    }

    @Test
    void optimizerOptionsChooseTheUpdateRuleAndItsSettings() {
        assertEquals(OptimizerSettings.sgd(), settings().optimizer());
        assertEquals(new OptimizerSettings("adaptive", 0.8, 0.5, 0.9, 0.999, 1e-8),
                settings("--optimizer", "adaptive", "--kappa", "0.8", "--moment-decay", "0.5").optimizer());
        assertEquals(new OptimizerSettings("adam", 1.0, 0.9, 0.8, 0.99, 1e-6),
                settings("--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--adam-epsilon", "1e-6").optimizer());
        assertEquals("diagonal", settings("--optimizer", "diagonal").optimizer().name());
        assertEquals("unknown optimizer 'lbfgs' (known: sgd, adaptive, diagonal, adam)", badArgument("--optimizer", "lbfgs"));
        assertEquals("kappa must be in (0.5, 1.5), inside Theorem 3's interval (Eq. 35, 36), got 1.5",
                badArgument("--optimizer", "adaptive", "--kappa", "1.5"));
        assertEquals("optimizer diagonal needs L = max|eig(H_f)| (Theorem 3): set moments-every or spectrum-every > 0",
                badArgument("--optimizer", "diagonal", "--moments-every", "0", "--spectrum-every", "0"));
    }

    @Test
    void checkpointOptionsNeedAFolderAndResumingNeedsTheExperimentId() {
        assertEquals(CheckpointSettings.off(), settings().checkpoint());
        assertEquals(new CheckpointSettings(dir, 50, false),
                settings("--checkpoint-dir", dir.toString(), "--checkpoint-every", "50").checkpoint());
        assertEquals(new CheckpointSettings(dir, 0, true),
                settings("--experiment", "g10", "--checkpoint-dir", dir.toString(), "--resume").checkpoint());
        assertEquals("checkpoint-every needs a checkpoint-dir to write the checkpoints into",
                badArgument("--checkpoint-every", "50"));
        assertEquals("--resume needs --experiment ID, the experiment to continue",
                badArgument("--checkpoint-dir", dir.toString(), "--resume"));
        assertEquals("resume needs the checkpoint-dir the experiment's checkpoints are in",
                badArgument("--experiment", "g10", "--resume"));
    }

    @Test
    void anExperimentIdThatOnlyStartsWithDotsIsFine() {
        assertEquals("..g10", settings("--experiment", "..g10").experimentId());
    }

    @Test
    void aNetworkWhoseParameterCountOverflowsIsABadArgument() {
        assertEquals("layers [50, 100000, 100000, 10] have p = 10,006,200,010 parameters, more than the 2,147,483,639 one "
                + "network can hold", badArgument("--layers", "50,100000,100000,10"));
    }

    @Test
    void settingsWhoseArraysCannotFitTheHeapAreABadArgument() {
        String samples = badArgument("--samples", "2000000000", "--workers", "1");
        assertTrue(samples.startsWith("these settings need at least 2235.2 GiB of arrays (n = 2,000,000,000 samples and "
                + "2,000,000,000 test samples of d = 50"), samples);
        assertTrue(samples.endsWith("GiB this JVM may use (-Xmx, e.g. in SGDSCOPE_JAVA_OPTS)"), samples);
        assertTrue(badArgument("--input-dim", "100000000").startsWith("these settings need at least"));
        assertTrue(badArgument("--layers", "50,40000,40000,10").startsWith("these settings need at least"));

        TrainerSettings gauss10 = settings("--experiment", "g10", "--workers", "2");
        TrainerOptions.checkFitsInMemory(gauss10, 1L << 20);            // Gauss-10 needs well under a MiB
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainerOptions.checkFitsInMemory(gauss10, 100_000));
        assertEquals("these settings need at least 0.0 GiB of arrays (n = 100 samples and 100 test samples of d = 50, "
                + "p = 1,150 parameters, 2 workers), more than the 0.0 GiB this JVM may use (-Xmx, e.g. in SGDSCOPE_JAVA_OPTS)",
                e.getMessage());
    }

    /** The four MNIST IDX files with 20 training and 4 test images of random pixels. */
    private static void writeMnist(Path folder) throws IOException {
        Files.createDirectories(folder);
        Files.write(folder.resolve("train-images-idx3-ubyte"), images(20));
        Files.write(folder.resolve("train-labels-idx1-ubyte"), labels(20));
        Files.write(folder.resolve("t10k-images-idx3-ubyte"), images(4));
        Files.write(folder.resolve("t10k-labels-idx1-ubyte"), labels(4));
    }

    private static byte[] images(int count) {
        byte[] pixels = new byte[count * 784];
        new java.util.Random(count).nextBytes(pixels);
        return ByteBuffer.allocate(16 + pixels.length).put(new byte[] {0, 0, 8, 3}).putInt(count).putInt(28).putInt(28)
                .put(pixels).array();
    }

    private static byte[] labels(int count) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + count).put(new byte[] {0, 0, 8, 1}).putInt(count);
        for (int i = 0; i < count; i++) {
            buffer.put((byte) (i % 10));
        }
        return buffer.array();
    }
}
