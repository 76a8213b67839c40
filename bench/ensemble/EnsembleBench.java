import io.sgdscope.client.KafkaTelemetryPublisher;
import io.sgdscope.client.TelemetrySink;
import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import io.sgdscope.trainer.Engine;
import io.sgdscope.trainer.Experiment;
import io.sgdscope.trainer.ExperimentListener;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.TrainerSettings;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.model.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * sgdscope's side of the ensemble benchmark (bench/ensemble/README.md): the paper's Gauss-10 experiment
 * (n = 100, d = 50, k = 10, layers [50, 10, 30, 10], batch 5 with replacement, lr 0.1, 400 iterations,
 * he-normal initialisation, standardised features) as R runs on the ensemble engine, with f(theta_t), the
 * training accuracy, the minibatch loss, ||g_t|| and cos(g_t, g_{t-1}) of every run at every iteration
 * (the ensemble engine publishes them as one IterationFrame per block and iteration).
 *
 * <p>Usage: {@code EnsembleBench R compute|publish|publish-to=HOST:PORT [float32|float64] [workers] [block] [ensemble]}
 * ({@code -Dbench.momentsEvery=N} adds the moments of Eq. 4-7 and L every N iterations; {@code -Dbench.optimizer=NAME}
 * and {@code -Dbench.learningRate=ETA} choose the optimizer and its step; RESULT says which);
 * blocks of 500 runs by default (the fastest here; 0 = the trainer's automatic lockstep blocks, ~6 % slower)
 * (the last one named the engine: the retired per-run engine, one network per run, is refused; commit eabd5f0 still
 * compares it on the same work). {@code compute}
 * hands the records to a sink that drops them; {@code publish} starts an embedded Kafka broker (KRaft,
 * in this process), creates the topics and publishes every record with the trainer's
 * KafkaTelemetryPublisher; the time includes flushing the producer. {@code publish-to=HOST:PORT} publishes the
 * same way to a broker that runs in another process (BenchBroker), so that this process's CPU time is the
 * trainer's alone: training, and publishing (encoding, the producer's append, compression and network thread).
 * RESULT's {@code cpu_seconds} is the process CPU time (every thread, user and system, JIT included) over the
 * timed span, {@code cpu_us_per_run_iteration} that over R x 400. Prints a RESULT line and a CHECK
 * line (median final loss, runs diverged, records sent and dropped). RESULT's {@code seconds} is the
 * span the peer times, its training loop: from the moment the first round of blocks has drawn its
 * initial parameters and sent its RunStarted records to the end (flush included);
 * {@code experiment_seconds} is the whole {@code Experiment.run}, data generation and set-up included.
 */
public final class EnsembleBench {

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    /** Process CPU time when the timed span began (see loopStart). */
    private static final java.util.concurrent.atomic.AtomicLong loopStartCpu = new java.util.concurrent.atomic.AtomicLong();

    /** -Dbench.momentsEvery=N: the moments of Eq. 4-7 and L every N iterations (0, the default: none). */
    private static final int MOMENTS_EVERY = Integer.getInteger("bench.momentsEvery", 0);
    /** The optimizer ({@code -Dbench.optimizer}, default sgd) and its step ({@code -Dbench.learningRate}, default 0.1). */
    private static final String OPTIMIZER = System.getProperty("bench.optimizer", "sgd");
    private static final double LEARNING_RATE = Double.parseDouble(System.getProperty("bench.learningRate", "0.1"));

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        String mode = args[1];
        Precision precision = Precision.fromId(args.length > 2 ? args[2] : "float32");
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int block = args.length > 4 ? Integer.parseInt(args[4]) : 500;
        Engine engine = Engine.fromId(args.length > 5 ? args[5] : "ensemble");
        if (engine != Engine.ENSEMBLE) {   // the per-run engine was retired (issue 15): a jar of eabd5f0 still has it
            System.err.println("EnsembleBench: the " + engine + " engine was retired; to compare with it, run this harness "
                    + "at commit eabd5f0");
            System.exit(2);
        }
        TrainerSettings settings = TrainerSettings.builder()
                .experimentId("bench-ensemble-" + runs)
                .runs(runs)
                .iterations(400)
                .learningRate(LEARNING_RATE)
                .optimizer(io.sgdscope.trainer.optim.OptimizerSettings.named(OPTIMIZER))
                .batchSize(5)
                .testEvery(0)
                .precision(precision)
                .workers(workers)
                .curvature(CurvatureSettings.off().withMomentsEvery(MOMENTS_EVERY))
                .engine(engine)
                .ensembleBlock(block)
                .build();

        // ND4J loads and initialises its native backend on first use, once per process: done here, before
        // the clock starts, as the peer imports torch before its clock starts.
        long backendStart = System.nanoTime();
        org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 2).addi(1);
        System.out.printf(Locale.ROOT, "BACKEND %.2f s to load ND4J's native backend (not timed)%n", (System.nanoTime() - backendStart) / 1e9);
        double[] finalLoss = new double[runs];
        // The peer times its training loop, without generating the data and drawing the initial parameters.
        // The same span here: from the moment the first round of blocks (workers x block runs) has drawn its
        // theta_0 and sent its RunStarted records, to the end. Later blocks' set-up stays inside.
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong loopStart = new java.util.concurrent.atomic.AtomicLong();
        int firstRound = block > 0 ? Math.min(runs, workers * block) : runs;   // automatic blocks all start at once
        ExperimentListener listener = new ExperimentListener() {
            @Override
            public void runStarted(io.sgdscope.schemas.RunStarted record) {
                if (started.incrementAndGet() == firstRound) {
                    loopStartCpu.set(OS.getProcessCpuTime());
                    loopStart.set(System.nanoTime());
                }
            }

            @Override
            public void runFinished(RunFinished record) {
                int index = Integer.parseInt(record.getRunId().substring(record.getRunId().lastIndexOf("-r") + 2));
                finalLoss[index] = record.getFinalLoss() == null ? Double.NaN : record.getFinalLoss();
            }
        };

        switch (mode) {
            case "compute" -> {
                Experiment experiment = new Experiment(settings, TelemetrySink.discarding(), listener);
                long start = System.nanoTime();
                ExperimentResult result = experiment.run();
                long end = System.nanoTime();
                report(runs, mode, precision, (end - loopStart.get()) / 1e9, (end - start) / 1e9, result, finalLoss, -1, -1);
            }
            case "publish" -> {
                Path dir = Files.createTempDirectory("sgdscope-bench-broker");
                try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.of(dir))) {
                    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                            broker.bootstrapServers()))) {
                        List<NewTopic> topics = new ArrayList<>();
                        for (Topics.Spec spec : Topics.all()) {
                            topics.add(new NewTopic(spec.name(), 4, (short) 1).configs(spec.config()));
                        }
                        admin.createTopics(topics).all().get();
                        TopicVisibility.await(admin, topics.stream().map(NewTopic::name).toList(), TopicVisibility.WAIT,
                                Duration.ofSeconds(30));
                    }
                    KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(broker.bootstrapServers(), producerOverrides());
                    publisher.awaitTopics(Duration.ofSeconds(30));
                    Experiment experiment = new Experiment(settings, publisher, listener);
                    long start = System.nanoTime();
                    ExperimentResult result = experiment.run();
                    publisher.close();                                              // flushes every record
                    long end = System.nanoTime();
                    report(runs, mode, precision, (end - loopStart.get()) / 1e9, (end - start) / 1e9, result, finalLoss,
                            publisher.sentRecords(),
                            publisher.droppedRecords() + publisher.failedRecords());
                }
            }
            default -> {
                if (!mode.startsWith("publish-to=")) {
                    throw new IllegalArgumentException("mode must be compute, publish or publish-to=HOST:PORT, got " + mode);
                }
                KafkaTelemetryPublisher publisher = new KafkaTelemetryPublisher(mode.substring("publish-to=".length()),
                        producerOverrides());
                publisher.awaitTopics(Duration.ofSeconds(30));
                CpuTimedSink timed = new CpuTimedSink(publisher, (long) runs * settings.iterations());
                Experiment experiment = new Experiment(settings, timed, listener);
                long start = System.nanoTime();
                ExperimentResult result = experiment.run();
                publisher.flush();                                                  // every record delivered
                long networkThread = producerThreadCpuNanos();                      // before close ends the thread
                publisher.close();
                long end = System.nanoTime();
                report(runs, "publish-to", precision, (end - loopStart.get()) / 1e9, (end - start) / 1e9, result, finalLoss,
                        publisher.sentRecords(), publisher.droppedRecords() + publisher.failedRecords());
                double iterations = (double) runs * settings.iterations();
                // The second half of the run-iterations published, when the JIT has compiled the publishing paths.
                long secondHalf = (long) iterations - timed.halfRunIterations();
                double steady = (timed.cpuNanos() - timed.halfCallerNanos() + networkThread - timed.halfNetworkNanos())
                        / 1e3 / secondHalf;
                System.out.printf(Locale.ROOT, "PUBLISHING runs=%d callers_cpu_seconds=%.3f network_thread_cpu_seconds=%.3f "
                                + "publishing_us_per_run_iteration=%.4f steady_us_per_run_iteration=%.4f frames=%d%n", runs,
                        timed.cpuNanos() / 1e9, networkThread / 1e9, (timed.cpuNanos() + networkThread) / 1e3 / iterations,
                        steady, timed.frames());
            }
        }
    }

    /** CPU time of the Kafka producer's I/O threads (they compress, checksum and send the batches). */
    private static long producerThreadCpuNanos() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("kafka-producer-network-thread")) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    /**
     * Hands everything to the publisher and adds up the CPU time the calling (worker) threads spend inside it:
     * encoding a frame and appending it to the producer's batch, and the RunStarted/RunFinished records (whose
     * RunFinished waits, off CPU, for the run's frames to be acknowledged). Reading a thread's CPU clock twice per
     * call costs about a microsecond, once per frame: nothing per run.
     */
    private static final class CpuTimedSink implements TelemetrySink {
        private final KafkaTelemetryPublisher next;
        private final java.util.concurrent.atomic.LongAdder cpuNanos = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder frames = new java.util.concurrent.atomic.LongAdder();
        private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        private final long half;
        private final java.util.concurrent.atomic.AtomicLong runIterations = new java.util.concurrent.atomic.AtomicLong();
        /** At the frame that took the count past half of all run-iterations: the count and both CPU clocks. */
        private volatile long halfRunIterations;
        private volatile long halfCallerNanos;
        private volatile long halfNetworkNanos;

        CpuTimedSink(KafkaTelemetryPublisher next, long runIterations) {
            this.next = next;
            this.half = runIterations / 2;
        }

        @Override
        public void runStarted(io.sgdscope.schemas.RunStarted record) {
            long before = threads.getCurrentThreadCpuTime();
            next.runStarted(record);
            cpuNanos.add(threads.getCurrentThreadCpuTime() - before);
        }

        @Override
        public void iteration(IterationMetrics record) {
            long before = threads.getCurrentThreadCpuTime();
            next.iteration(record);
            cpuNanos.add(threads.getCurrentThreadCpuTime() - before);
        }

        @Override
        public void frame(String frameKey, io.sgdscope.schemas.frames.Frame frame) {
            long before = threads.getCurrentThreadCpuTime();
            next.frame(frameKey, frame);
            cpuNanos.add(threads.getCurrentThreadCpuTime() - before);
            frames.increment();
            long count = runIterations.addAndGet(frame.size());
            if (count >= half && count - frame.size() < half) {
                halfRunIterations = count;
                halfCallerNanos = cpuNanos.sum();
                halfNetworkNanos = producerThreadCpuNanos();
            }
        }

        long halfRunIterations() {
            return halfRunIterations;
        }

        long halfCallerNanos() {
            return halfCallerNanos;
        }

        long halfNetworkNanos() {
            return halfNetworkNanos;
        }

        @Override
        public void runFinished(RunFinished record) {
            long before = threads.getCurrentThreadCpuTime();
            next.runFinished(record);
            cpuNanos.add(threads.getCurrentThreadCpuTime() - before);
        }

        @Override
        public long droppedRecords(String runId) {
            return next.droppedRecords(runId);
        }

        long cpuNanos() {
            return cpuNanos.sum();
        }

        long frames() {
            return frames.sum();
        }
    }

    /** Producer settings to try against the publisher's defaults: -Dproducer.compression.type=lz4 etc. */
    private static Map<String, Object> producerOverrides() {
        Map<String, Object> overrides = new java.util.HashMap<>();
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("producer.")) {
                overrides.put(name.substring("producer.".length()), System.getProperty(name));
            }
        }
        return overrides;
    }

    private static void report(int runs, String mode, Precision precision, double seconds, double experimentSeconds,
                               ExperimentResult result, double[] finalLoss, long sent, long dropped) {
        double cpuSeconds = (OS.getProcessCpuTime() - loopStartCpu.get()) / 1e9;
        double[] sorted = Arrays.stream(finalLoss).filter(Double::isFinite).sorted().toArray();
        double median = sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
        System.out.printf(Locale.ROOT, "RESULT runs=%d mode=%s seconds=%.2f dtype=%s engine=%s optimizer=%s "
                        + "experiment_seconds=%.2f cpu_seconds=%.2f cpu_us_per_run_iteration=%.4f moments_every=%d%n", runs,
                mode, seconds, precision.id(), result.settings().engine().id(), result.settings().optimizer().name(),
                experimentSeconds, cpuSeconds,
                cpuSeconds * 1e6 / ((double) runs * result.settings().iterations()), MOMENTS_EVERY);
        System.out.printf(Locale.ROOT, "CHECK median_final_loss=%.6f diverged_runs=%d completed_runs=%d sent=%d dropped=%d%n",
                median, result.count(RunStatus.DIVERGED), result.count(RunStatus.COMPLETED), sent, dropped);
        long ended = result.count(RunStatus.DIVERGED) + result.count(RunStatus.COMPLETED);
        if (ended != runs) {
            System.out.printf(Locale.ROOT, "WARNING %d of %d runs neither completed nor diverged: the timing is void%n",
                    runs - ended, runs);
            System.exit(1);
        }
    }
}
