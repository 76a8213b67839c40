package io.sgdscope.bench.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.DeviationApp;
import io.sgdscope.streams.QuantilesApp;
import io.sgdscope.streams.StreamsApps;
import io.sgdscope.streams.StreamsSettings;
import io.sgdscope.streams.deviation.DeviationSettings;
import io.sgdscope.streams.metrics.MeterNames;
import io.sgdscope.streams.quantiles.QuantilesSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The streams benchmark (see README.md): a pre-filled sgd.iterations topic, then
 * <ol>
 *   <li>a plain consumer that only deserialises it (the peer);</li>
 *   <li>the quantiles app alone, the deviation app alone, both in one process: records/s;</li>
 *   <li>both apps under a steady rate: latency from produce to the value visible on /metrics;</li>
 *   <li>the size of the state stores (local RocksDB files and changelog topics) of the one experiment.</li>
 * </ol>
 * Options: --runs R --iterations T --moments-every K --partitions P --frame-runs N (IterationFrames of N runs
 * instead of one record per run and iteration) --work DIR --rate RECORDS_PER_S
 * --latency-runs N --latency-seconds S --phases fill,consumer,streams-noop,quantiles,deviation,both,latency
 * [--bootstrap-servers HOST:PORT (default: an embedded broker in DIR)].
 */
public final class StreamsBenchmark {

    private final Map<String, String> options;
    private final Path work;
    private final int runs;
    private final int iterations;
    /** Run-iterations: runs × iterations (a per-run record carries one, a frame of n runs n). */
    private final long records;
    /** Runs per IterationFrame, or 0: one IterationMetrics record per run and iteration. */
    private final int frameRuns;
    private final Map<String, String> results = new LinkedHashMap<>();
    private String bootstrap;
    private double consumerRate = Double.NaN;

    private StreamsBenchmark(Map<String, String> options) {
        this.options = options;
        this.work = Path.of(options.getOrDefault("work", "target/bench-work")).toAbsolutePath();
        this.runs = Integer.parseInt(options.getOrDefault("runs", "10000"));
        this.iterations = Integer.parseInt(options.getOrDefault("iterations", "400"));
        this.records = (long) runs * iterations;
        this.frameRuns = Integer.parseInt(options.getOrDefault("frame-runs", "0"));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        new StreamsBenchmark(options).run();
    }

    private void run() throws Exception {
        List<String> phases = List.of(options.getOrDefault("phases", "fill,consumer,streams-noop,quantiles,deviation,both,latency").split(","));
        Files.createDirectories(work);
        EmbeddedKafkaBroker broker = null;
        if (options.containsKey("bootstrap-servers")) {
            bootstrap = options.get("bootstrap-servers");
        } else {
            broker = EmbeddedKafkaBroker.start(BrokerSettings.of(work.resolve("kafka")).withPort(
                    Integer.parseInt(options.getOrDefault("kafka-port", "0"))));
            bootstrap = broker.bootstrapServers();
        }
        say("Kafka at %s; %,d runs x %,d iterations = %,d run-iterations %s; %d cores, max heap %d MB", bootstrap, runs, iterations,
                records, frameRuns > 0 ? "in frames of " + frameRuns + " runs" : "as per-run records",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try {
            if (phases.contains("fill")) {
                fill();
            }
            if (phases.contains("consumer")) {
                plainConsumer();
            }
            if (phases.contains("streams-noop")) {
                streamsNoop();
            }
            if (phases.contains("quantiles")) {
                throughput("quantiles");
            }
            if (phases.contains("deviation")) {
                throughput("deviation");
            }
            if (phases.contains("both")) {
                throughput("both");
            }
            if (phases.contains("latency")) {
                latency();
            }
        } finally {
            say("%n## Results%n");
            results.forEach((name, value) -> System.out.println("| " + name + " | " + value + " |"));
            System.out.flush();
            if (broker != null) {
                broker.close();
            }
        }
    }

    private Map<String, Object> consumerConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // as Kafka Streams under exactly-once
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        return config;
    }

    private void fill() throws Exception {
        int partitions = Integer.parseInt(options.getOrDefault("partitions", "4"));
        try (Admin admin = admin()) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = Topics.all().stream().filter(spec -> !existing.contains(spec.name()))
                    .map(spec -> new NewTopic(spec.name(), partitions, (short) 1).configs(spec.config())).toList();
            admin.createTopics(missing).all().get();
            TopicVisibility.await(admin, Topics.all().stream().map(Topics.Spec::name).toList(), TopicVisibility.WAIT,
                    Duration.ofSeconds(30));
        }
        int momentsEvery = Integer.parseInt(options.getOrDefault("moments-every", "10"));
        long start = System.nanoTime();
        long kafkaRecords;
        try (Workload workload = new Workload(bootstrap, "bench", runs, momentsEvery, frameRuns)) {
            kafkaRecords = workload.recordsPerIteration() * iterations;
            workload.startRuns(iterations);
            for (int t = 0; t < iterations; t++) {
                workload.sendIteration(t);
            }
            workload.finishRuns(iterations);
        }
        double seconds = seconds(start);
        long bytes = topicBytes(Topics.ITERATIONS);
        results.put("fill: run-iterations produced", String.format(Locale.ROOT, "%,d in %,d Kafka records (%s) in %.1f s "
                + "(%,.0f run-iterations/s), %,d bytes on disk (%.1f B/run-iteration)", records, kafkaRecords,
                frameRuns > 0 ? "IterationFrames of " + frameRuns + " runs" : "IterationMetrics", seconds, records / seconds, bytes,
                bytes / (double) records));
        say("filled %,d records in %.1f s", records, seconds);
    }

    /**
     * The peer: a consumer that reads sgd.iterations from the start and only deserialises the values;
     * with {@code --threads N}, N consumers on threads of their own, each with its share of the
     * partitions (as N stream threads share the tasks).
     */
    private void plainConsumer() throws Exception {
        int threads = Integer.parseInt(options.getOrDefault("threads", "1"));
        List<TopicPartition> partitions;
        try (KafkaConsumer<byte[], byte[]> probe = new KafkaConsumer<>(consumerConfig(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            partitions = probe.partitionsFor(Topics.ITERATIONS).stream()
                    .map(info -> new TopicPartition(Topics.ITERATIONS, info.partition())).toList();
        }
        java.util.concurrent.atomic.AtomicLong counted = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong firstNanos = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        double[] checksums = new double[threads];
        List<Thread> readers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < threads; i++) {
            int reader = i;
            List<TopicPartition> share = new ArrayList<>();
            for (int p = reader; p < partitions.size(); p += threads) {
                share.add(partitions.get(p));
            }
            Thread thread = new Thread(() -> {
                TelemetrySerde<IterationMetrics> serde = TelemetrySerdes.iterations();
                org.apache.kafka.common.serialization.Deserializer<io.sgdscope.schemas.frames.Frame> frames =
                        TelemetrySerdes.frames().deserializer();
                StringDeserializer keys = new StringDeserializer();
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(), new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
                    consumer.assign(share);
                    consumer.seekToBeginning(share);
                    long runIterations = 0;
                    while (counted.get() < records) {
                        int polled = 0;
                        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                            if (polled++ == 0) {
                                long now = System.nanoTime();
                                firstNanos.accumulateAndGet(now, Math::min);
                            }
                            keys.deserialize(record.topic(), record.key());
                            if (frameRuns > 0) {
                                io.sgdscope.schemas.frames.Frame frame = frames.deserialize(record.topic(), record.value());
                                for (double loss : frame.column(io.sgdscope.schemas.frames.FrameColumn.LOSS)) {
                                    checksums[reader] += loss;
                                }
                                runIterations += frame.size();
                            } else {
                                checksums[reader] += serde.deserialize(record.topic(), record.value()).getLoss();
                                runIterations++;
                            }
                        }
                        counted.addAndGet(runIterations);
                        runIterations = 0;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "plain-consumer-" + reader);
            thread.start();
            readers.add(thread);
        }
        for (Thread thread : readers) {
            thread.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a plain consumer failed: " + failures.get(0), failures.get(0));
        }
        long start = firstNanos.get();
        long count = counted.get();
        double checksum = java.util.Arrays.stream(checksums).sum();
        double seconds = seconds(start);
        consumerRate = count / seconds;
        results.put("plain consumer (deserialise only)", String.format(Locale.ROOT, "%,.0f run-iterations/s (%,d in %.1f s; checksum %.3f; %d thread%s)",
                consumerRate, count, seconds, checksum, threads, threads == 1 ? "" : "s"));
        say("plain consumer: %,.0f run-iterations/s", consumerRate);
    }

    /**
     * A second peer: Kafka Streams itself with nothing to do, under the apps' settings (exactly-once, commit
     * every 100 ms): it deserialises each IterationMetrics and counts it. The apps cannot beat this.
     */
    private void streamsNoop() throws Exception {
        StreamsSettings settings = tuned(StreamsSettings.defaults(bootstrap, work.resolve("state-noop"))
                .withApplicationId("bench-noop-" + System.currentTimeMillis()));
        java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
        org.apache.kafka.streams.StreamsBuilder builder = new org.apache.kafka.streams.StreamsBuilder();
        builder.stream(Topics.ITERATIONS, org.apache.kafka.streams.kstream.Consumed.with(
                org.apache.kafka.common.serialization.Serdes.String(), TelemetrySerdes.frames()))
                .foreach((key, frame) -> count.addAndGet(frame.size()));
        java.util.Properties properties = settings.toStreamsProperties(settings.quantilesApplicationId());
        properties.remove(org.apache.kafka.streams.StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        properties.remove(org.apache.kafka.streams.StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG);
        try (org.apache.kafka.streams.KafkaStreams streams = new org.apache.kafka.streams.KafkaStreams(builder.build(), properties)) {
            streams.start();
            long first = 0;
            while (count.get() < records) {
                Thread.sleep(5);
                if (first == 0 && count.get() > 0) {
                    first = System.nanoTime();
                }
            }
            double seconds = seconds(first);
            double rate = records / seconds;
            results.put("Kafka Streams doing nothing (exactly-once, 100 ms commits)", String.format(Locale.ROOT,
                    "%,.0f run-iterations/s (%.1f s)%s", rate, seconds, Double.isNaN(consumerRate) ? ""
                            : String.format(Locale.ROOT, "; ratio to the plain consumer %.2f", rate / consumerRate)));
            say("streams-noop: %,.0f run-iterations/s", rate);
        }
    }

    /** Runs an app (or both) from the start of the filled topics until every record is counted and the results settled. */
    private void throughput(String which) throws Exception {
        String prefix = "bench-" + which + "-" + System.currentTimeMillis();
        Path state = work.resolve("state-" + which);
        StreamsSettings settings = tuned(StreamsSettings.defaults(bootstrap, state).withApplicationId(prefix).withMetrics("127.0.0.1", 0));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        long start = System.nanoTime();
        long startProcessCpu = processCpuNanos();
        long startCompilation = compilationMillis();
        AutoCloseable app;
        LongSupplier counted;
        LongSupplier settled;
        switch (which) {
            case "quantiles" -> {
                QuantilesApp quantiles = QuantilesApp.start(settings, QuantilesSettings.defaults(), registry);
                app = quantiles;
                counted = () -> sum(registry, MeterNames.ITERATION_RECORDS);
                settled = () -> frontierSettled(quantiles) ? 1 : 0;
            }
            case "deviation" -> {
                DeviationApp deviation = DeviationApp.start(settings, DeviationSettings.defaults(), registry);
                app = deviation;
                counted = () -> sum(registry, MeterNames.DEVIATION_RECORDS);
                settled = () -> 1;
            }
            default -> {
                StreamsApps apps = StreamsApps.start(settings, QuantilesSettings.defaults(), DeviationSettings.defaults());
                app = apps;
                counted = () -> Math.min(sum(apps.registry(), MeterNames.ITERATION_RECORDS),
                        sum(apps.registry(), MeterNames.DEVIATION_RECORDS));
                settled = () -> frontierSettled(apps.quantiles()) ? 1 : 0;
            }
        }
        try (app) {
            long firstRecord = 0;
            long firstCpu = 0;
            long lastReport = System.nanoTime();
            while (counted.getAsLong() < records) {
                Thread.sleep(20);
                if (firstRecord == 0 && counted.getAsLong() > 0) {
                    firstRecord = System.nanoTime();
                    firstCpu = streamThreadCpuNanos(prefix);
                }
                if (System.nanoTime() - lastReport > 10_000_000_000L) {
                    lastReport = System.nanoTime();
                    say("  %s: %,d of %,d run-iterations after %.0f s", which, counted.getAsLong(), records, seconds(start));
                }
            }
            long allCounted = System.nanoTime();
            double cpuSeconds = (streamThreadCpuNanos(prefix) - firstCpu) / 1e9;
            while (settled.getAsLong() == 0) {
                Thread.sleep(20);
            }
            long done = System.nanoTime();
            double processCpuSeconds = (processCpuNanos() - startProcessCpu) / 1e9;
            double compilationSeconds = (compilationMillis() - startCompilation) / 1e3;
            double processing = (allCounted - firstRecord) / 1e9;
            double rate = records / processing;
            results.put(which + " app" + (which.equals("both") ? "s (one process)" : ""), String.format(Locale.ROOT,
                    "%,.0f run-iterations/s (first to last record %.1f s; start to first record %.1f s; results settled %.1f s after "
                            + "the last record; %,.0f run-iterations per CPU second of the stream threads, %.1f s; "
                            + "CPU of the whole JVM from the app's start to settled results %.2f s per million run-iterations, "
                            + "of which the JIT compilers %.2f s)%s",
                    rate, processing, (firstRecord - start) / 1e9, (done - allCounted) / 1e9, records / cpuSeconds, cpuSeconds,
                    processCpuSeconds * 1e6 / records, compilationSeconds * 1e6 / records,
                    Double.isNaN(consumerRate) ? "" : String.format(Locale.ROOT, "; ratio to the plain consumer %.2f", rate / consumerRate)));
            say("%s: %,.0f run-iterations/s; stream threads %.2f CPU-s, whole JVM %.2f CPU-s (%.2f per million run-iterations; "
                    + "JIT compilers %.2f s)", which, rate, cpuSeconds, processCpuSeconds, processCpuSeconds * 1e6 / records,
                    compilationSeconds);
        }
        storeSizes(which, state, prefix);
        registry.close();
    }

    /**
     * CPU time (user + system) of this whole JVM so far: the app's threads, its clients' I/O threads and the embedded
     * broker's work for it (transactions, changelogs, repartition topics); the other phases of the benchmark are idle.
     */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Time the JIT compilers have spent so far (their threads are not Java threads; the JVM's own estimate). */
    private static long compilationMillis() {
        return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }

    /**
     * CPU time of the app's stream threads so far (Kafka Streams names them {@code <application id>-<uuid>-StreamThread-n}):
     * on a shared machine a steadier measure of the work done than wall time.
     */
    private static long streamThreadCpuNanos(String applicationIdPrefix) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith(applicationIdPrefix) && thread.getName().contains("-StreamThread-")) {
                long cpu = threads.getThreadCpuTime(thread.getId());
                total += Math.max(0, cpu);
            }
        }
        return total;
    }

    private boolean frontierSettled(QuantilesApp app) {
        return app.experiments().current("bench")
                .map(status -> status.frontierIteration() == iterations - 1 && status.finished() == runs)
                .orElse(false)
                && app.bands().current("bench", "loss").map(band -> band.runs() == runs).orElse(false);
    }

    /** Local RocksDB/in-memory store files and changelog topics of an app run: the state of one experiment. */
    private void storeSizes(String which, Path state, String prefix) throws Exception {
        Map<String, Long> local = new TreeMap<>();
        if (Files.isDirectory(state)) {
            try (Stream<Path> files = Files.walk(state)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    Path relative = state.relativize(file);
                    // <application id>/<task>/rocksdb/<store>/... or <application id>/<task>/<store>...
                    String store = relative.getNameCount() > 3 && relative.getName(2).toString().equals("rocksdb")
                            ? relative.getName(3).toString() : "(other: checkpoints, locks)";
                    local.merge(store, Files.size(file), Long::sum);
                }
            }
        }
        Map<String, Long> changelogs = new TreeMap<>();
        try (Admin admin = admin()) {
            Map<Integer, Map<String, LogDirDescription>> dirs = admin.describeLogDirs(brokerIds(admin)).allDescriptions().get();
            for (Map<String, LogDirDescription> byDir : dirs.values()) {
                for (LogDirDescription description : byDir.values()) {
                    for (Map.Entry<TopicPartition, ReplicaInfo> replica : description.replicaInfos().entrySet()) {
                        String topic = replica.getKey().topic();
                        if (topic.startsWith(prefix) && topic.endsWith("-changelog")) {
                            changelogs.merge(topic.substring(prefix.length() + 1), replica.getValue().size(), Long::sum);
                        }
                    }
                }
            }
        }
        String localText = local.entrySet().stream().map(e -> e.getKey() + " " + mb(e.getValue())).collect(Collectors.joining(", "));
        String changelogText = changelogs.entrySet().stream().map(e -> e.getKey() + " " + mb(e.getValue())).collect(Collectors.joining(", "));
        results.put(which + ": local state (1 experiment, " + runs + " runs)", localText);
        results.put(which + ": changelog topics", changelogText);
    }

    /** Both apps with a metrics server; a steady rate of a new experiment; produce → visible on /metrics. */
    private void latency() throws Exception {
        int rate = Integer.parseInt(options.getOrDefault("rate", "10000"));
        int latencyRuns = Integer.parseInt(options.getOrDefault("latency-runs", "1000"));
        int seconds = Integer.parseInt(options.getOrDefault("latency-seconds", "60"));
        int warmup = Integer.parseInt(options.getOrDefault("warmup-seconds", "10"));
        String experiment = "latency-" + System.currentTimeMillis();
        String prefix = "bench-latency-" + System.currentTimeMillis();
        StreamsSettings settings = tuned(StreamsSettings.defaults(bootstrap, work.resolve("state-latency")).withApplicationId(prefix)
                .withMetrics("127.0.0.1", 0).withClientProperties(Map.of("auto.offset.reset", "latest")));
        try (StreamsApps apps = StreamsApps.start(settings, QuantilesSettings.defaults(), DeviationSettings.defaults());
             Workload workload = new Workload(bootstrap, experiment, latencyRuns, Integer.parseInt(options.getOrDefault("moments-every", "10")))) {
            if (!apps.awaitRunning(Duration.ofSeconds(120))) {
                throw new IllegalStateException("the apps did not start");
            }
            URI metrics = URI.create("http://127.0.0.1:" + apps.metricsPort() + "/metrics");
            Map<Integer, Long> sent = new ConcurrentHashMap<>();
            Map<Integer, Long> visible = new ConcurrentHashMap<>();
            Thread scraper = new Thread(() -> scrape(metrics, experiment, visible), "scraper");
            scraper.setDaemon(true);
            scraper.start();

            workload.startRuns(Integer.MAX_VALUE);
            long periodNanos = 1_000_000_000L * latencyRuns / rate;
            int total = (int) ((long) (seconds + warmup) * rate / latencyRuns);
            long begin = System.nanoTime();
            for (int t = 0; t < total; t++) {
                long due = begin + t * periodNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                sent.put(t, workload.sendIteration(t));
            }
            workload.flush();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!visible.containsKey(total - 1) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            scraper.interrupt();
            int skip = warmup * rate / latencyRuns;
            List<Double> frontier = new ArrayList<>();
            for (int t = skip; t < total; t++) {
                // visible(t): the first scrape whose frontier was t or beyond (all runs' records of t in the band)
                Long seen = visible.get(t);
                if (seen != null) {
                    frontier.add((seen - sent.get(t)) / 1e6);
                }
            }
            double[] sorted = frontier.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            results.put("latency: produce → frontier band on /metrics", sorted.length == 0 ? "no samples"
                    : String.format(Locale.ROOT, "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d iterations of %,d runs at %,d records/s, "
                            + "after %d s warm-up; scraped every 10 ms)", percentile(sorted, 0.50), percentile(sorted, 0.99),
                            sorted[sorted.length - 1], sorted.length, latencyRuns, rate, warmup));
            say("latency p50 %.0f ms p99 %.0f ms", percentile(sorted, 0.5), percentile(sorted, 0.99));
        }
    }

    private static final Pattern FRONTIER = Pattern.compile("^sgdscope_experiment_frontier_iteration\\{experiment=\"([^\"]+)\"\\} (\\S+)");

    private static void scrape(URI metrics, String experiment, Map<Integer, Long> visible) {
        HttpClient http = HttpClient.newHttpClient();
        int last = -1;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                String text = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
                long now = System.nanoTime();
                for (String line : text.split("\n")) {
                    Matcher matcher = FRONTIER.matcher(line);
                    if (matcher.find() && matcher.group(1).equals(experiment)) {
                        int frontier = (int) Double.parseDouble(matcher.group(2));
                        for (int t = last + 1; t <= frontier; t++) {
                            visible.putIfAbsent(t, now);
                        }
                        last = Math.max(last, frontier);
                    }
                }
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static long sum(MeterRegistry registry, String name) {
        return (long) registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    private long topicBytes(String topic) throws Exception {
        try (Admin admin = admin()) {
            long bytes = 0;
            for (Map<String, LogDirDescription> byDir : admin.describeLogDirs(brokerIds(admin)).allDescriptions().get().values()) {
                for (LogDirDescription description : byDir.values()) {
                    for (Map.Entry<TopicPartition, ReplicaInfo> replica : description.replicaInfos().entrySet()) {
                        if (replica.getKey().topic().equals(topic)) {
                            bytes += replica.getValue().size();
                        }
                    }
                }
            }
            return bytes;
        }
    }

    /** --commit-ms and --threads, when given, instead of the defaults (100 ms, 1 thread per app). */
    private StreamsSettings tuned(StreamsSettings settings) {
        StreamsSettings tuned = settings;
        if (options.containsKey("commit-ms")) {
            tuned = tuned.withCommitInterval(Duration.ofMillis(Long.parseLong(options.get("commit-ms"))));
        }
        if (options.containsKey("threads")) {
            tuned = new StreamsSettings(tuned.bootstrapServers(), tuned.applicationId(), tuned.stateDir(), tuned.metricsHost(),
                    tuned.metricsPort(), Integer.parseInt(options.get("threads")), tuned.processingGuarantee(),
                    tuned.clientProperties(), tuned.commitInterval(), tuned.deadLetterTopic(), tuned.standbyReplicas());
        }
        return tuned;
    }

    private static List<Integer> brokerIds(Admin admin) throws Exception {
        return admin.describeCluster().nodes().get().stream().map(org.apache.kafka.common.Node::id).toList();
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
        System.out.flush();
    }
}
