package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.FrameSerde;
import io.sgdscope.schemas.serde.TelemetrySerde;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a training process's telemetry to Kafka: the one publishing path of sgdscope's built-in trainer and of
 * any JVM training loop (through {@link SgdscopeClient}). Create ONE per process and share it between all runs
 * and worker threads: it holds one {@link KafkaProducer}, which is thread-safe. IterationMetrics on
 * {@link Topics#ITERATIONS} keyed by runId, IterationFrames (the ensemble engine: one iteration of a block of runs)
 * on the same topic keyed by their frame key (the block's first run id, which each run's RunStarted.frameKey
 * names), RunStarted / RunFinished on {@link Topics#RUNS} keyed by {@link Topics#runStartedKey} /
 * {@link Topics#runFinishedKey}. Values are Avro single-object encoded by {@link TelemetrySerdes} (frames by
 * {@link TelemetrySerdes#frames()}, straight from their arrays), so every record or frame of a run lands, in order,
 * in one partition.
 *
 * <p>Producer settings for telemetry (each can be overridden by the extra properties):
 * idempotence on with acks=all (no duplicates or reordering on retries), linger.ms 20 and
 * batch.size 256 KiB (many small records per request), lz4 compression, buffer.memory 32 MiB, and
 * max.block.ms 250 so that {@code send} never holds training up for long. (Measured with 100 x 400
 * Gauss-10 iterations into the embedded broker: an IterationMetrics takes 136 bytes on disk
 * uncompressed, 50 with lz4, 38 with zstd; publishing 402,000 records from an ensemble cost 1.2 CPU
 * seconds more with zstd than with lz4, 0.5 s of 6.9 s wall: on a trainer's host CPU is dearer than disk.)
 *
 * <p><b>When the buffer fills</b> (the broker is slower than the trainers, or unreachable):
 * {@code send} waits at most max.block.ms for space. An IterationMetrics that still does not fit is
 * <em>dropped</em>: training goes on, the record is counted against its run (reported in the run's
 * {@code RunFinished.droppedRecords}, see {@link #droppedRecords(String)}) and in
 * {@link #droppedRecords()}. A frame is one Kafka record but stands for one iteration record per run it covers:
 * a frame dropped, or failed to deliver, counts one lost record against each of its runs and as many in every
 * total and counter (so counts stay in run-iterations, whichever engine published them). A SpectrumSnapshot goes to {@link Topics#SPECTRA} keyed by runId (with its run's frame key filled in, see
 * {@link #spectrum}) and is treated the same way (counted against its run
 * and in {@link #droppedSpectra()}). RunStarted and RunFinished are never dropped for a full buffer: they
 * are offered again until {@code controlTimeout} (30 s by default) has passed, and only then does
 * the call throw {@link TelemetryException}. Records that were accepted but then failed to be
 * delivered (delivery.timeout.ms passed, a broker error) are counted in {@link #failedRecords()},
 * and an iteration record also against its run if the run has not finished yet. Both kinds of loss are also
 * counted by record type ({@link #droppedRecords(RecordType)}, {@link #failedRecords(RecordType)}).
 *
 * <p>Before the first RunStarted the publisher waits (up to {@code controlTimeout}, 30 s by
 * default) until the metadata of both topics is known; otherwise the short max.block.ms would drop
 * the first records while the producer looks the topics up. Topics are not created here.
 */
public final class KafkaTelemetryPublisher implements TelemetrySink, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTelemetryPublisher.class);

    /** Default bound for offering a RunStarted / RunFinished and for waiting for topic metadata. */
    public static final Duration DEFAULT_CONTROL_TIMEOUT = Duration.ofSeconds(30);
    /** Default bound for {@link #close()}: time to deliver what is buffered. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Producer<String, byte[]> producer;
    private final TelemetrySerde<SpecificRecord> runsSerde = TelemetrySerdes.runs();
    private final TelemetrySerde<IterationMetrics> iterationsSerde = TelemetrySerdes.iterations();
    private final FrameSerde framesSerde = TelemetrySerdes.frames();
    private final TelemetrySerde<SpectrumSnapshot> spectraSerde = TelemetrySerdes.spectra();
    private final Duration controlTimeout;
    private final Map<String, LongAdder> droppedByRun = new ConcurrentHashMap<>();
    /** The latest send of each run in progress, per topic (see {@link #awaitDelivered}). */
    private final Map<String, Map<String, Future<RecordMetadata>>> lastSends = new ConcurrentHashMap<>();
    /** The frame key of each run in progress whose iterations go out in frames (from its RunStarted). */
    private final Map<String, String> frameKeyOfRun = new ConcurrentHashMap<>();
    /** Per frame key: its runs in progress, and the latest frame sent under it (forgotten when its last run ends). */
    private final Map<String, AtomicInteger> runsOfFrameKey = new ConcurrentHashMap<>();
    private final Map<String, Future<RecordMetadata>> lastFrameSends = new ConcurrentHashMap<>();
    private final LongAdder sent = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder droppedSpectra = new LongAdder();
    private final LongAdder failed = new LongAdder();
    /** Records lost by type (index: {@link RecordType#ordinal()}). */
    private final LongAdder[] droppedByType = adders();
    private final LongAdder[] failedByType = adders();
    /** Each run's RunFinished in flight: true once delivered, false when it failed (see {@link #finishedDelivery}). */
    private final Map<String, CompletableFuture<Boolean>> finishing = new ConcurrentHashMap<>();
    /** When a lost record was last logged; starts far in the past so that the first loss is logged. */
    private final AtomicLong lastDropWarningNanos = new AtomicLong(System.nanoTime() - Long.MAX_VALUE / 2);
    private volatile boolean topicsReady;

    /**
     * A publisher with its own producer.
     *
     * @param bootstrapServers host:port list of the cluster
     * @param extraProperties  further producer properties, e.g. security settings from a --kafka-config file;
     *                         they override the defaults above
     */
    public KafkaTelemetryPublisher(String bootstrapServers, Map<String, ?> extraProperties) {
        this(new KafkaProducer<>(producerProperties(bootstrapServers, extraProperties), new StringSerializer(),
                new ByteArraySerializer()), DEFAULT_CONTROL_TIMEOUT);
    }

    /** A publisher with its own producer on the given cluster and client properties. */
    public KafkaTelemetryPublisher(KafkaClientSettings settings) {
        this(settings.bootstrapServers(), settings.properties());
    }

    /**
     * A publisher on a given producer (tests: {@code MockProducer}); it is closed with the publisher.
     *
     * @param controlTimeout how long RunStarted / RunFinished are offered, and topic metadata awaited
     */
    public KafkaTelemetryPublisher(Producer<String, byte[]> producer, Duration controlTimeout) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.controlTimeout = Objects.requireNonNull(controlTimeout, "controlTimeout");
    }

    /** The producer properties this publisher uses: the telemetry defaults, then {@code extraProperties}. */
    public static Map<String, Object> producerProperties(String bootstrapServers, Map<String, ?> extraProperties) {
        Map<String, Object> properties = new HashMap<>();
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        properties.put(ProducerConfig.CLIENT_ID_CONFIG, "sgdscope-trainer");
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        properties.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        properties.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        properties.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 32L * 1024 * 1024);
        properties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 250);
        if (extraProperties != null) {
            properties.putAll(extraProperties);
        }
        return properties;
    }

    /**
     * Waits until the producer knows the partitions of {@link Topics#RUNS} and {@link Topics#ITERATIONS},
     * retrying for up to {@code timeout} in total. Called before the first RunStarted; call it
     * earlier to fail fast.
     *
     * @throws TelemetryException if a topic is still unknown after the timeout (not created? wrong cluster?)
     */
    public void awaitTopics(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String topic : List.of(Topics.RUNS, Topics.ITERATIONS)) {
            RuntimeException last = null;
            while (true) {
                try {
                    List<PartitionInfo> partitions = producer.partitionsFor(topic);
                    if (partitions != null && !partitions.isEmpty()) {
                        break;
                    }
                } catch (KafkaException e) {
                    last = e;  // typically a TimeoutException after max.block.ms: ask again
                }
                if (System.nanoTime() >= deadline) {
                    throw new TelemetryException("topic " + topic + " is not available after " + seconds(timeout)
                            + ": is the cluster reachable and the topic created?", last);
                }
                sleep(100);
            }
        }
        topicsReady = true;
    }

    @Override
    public void runStarted(RunStarted record) {
        if (!topicsReady) {
            synchronized (this) {
                if (!topicsReady) {
                    awaitTopics(controlTimeout);
                }
            }
        }
        droppedByRun.computeIfAbsent(record.getRunId(), id -> new LongAdder());
        if (record.getFrameKey() != null) {
            frameKeyOfRun.put(record.getRunId(), record.getFrameKey());
            runsOfFrameKey.computeIfAbsent(record.getFrameKey(), key -> new AtomicInteger()).incrementAndGet();
        }
        byte[] value = runsSerde.serialize(Topics.RUNS, record);
        sendControl(new ProducerRecord<>(Topics.RUNS, Topics.runStartedKey(record.getRunId()), value),
                record.getRunId(), RecordType.RUN_STARTED, null);
    }

    @Override
    public void iteration(IterationMetrics record) {
        String runId = record.getRunId();
        byte[] value = iterationsSerde.serialize(Topics.ITERATIONS, record);
        sendOrDrop(new ProducerRecord<>(Topics.ITERATIONS, runId, value), runId, RecordType.ITERATION, dropped);
    }

    /**
     * Sends a frame under {@code frameKey}, or drops it like an IterationMetrics: then each of its runs loses one
     * record ({@link #droppedRecords(String)}), and every total counts as many records as the frame has runs.
     */
    @Override
    public void frame(String frameKey, Frame frame) {
        byte[] value = framesSerde.serialize(Topics.ITERATIONS, frame);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.ITERATIONS, frameKey, value);
        SendCallback callback = new SendCallback(null, frame.runIds(), RecordType.ITERATION, null);
        Future<RecordMetadata> future = callback.send(record);
        int runs = frame.size();
        if (future != null && !callback.failedInSend) {
            lastFrameSends.put(frameKey, future);
            sent.add(runs);
            return;
        }
        dropped.add(runs);
        droppedByType[RecordType.ITERATION.ordinal()].add(runs);
        for (int i = 0; i < runs; i++) {
            LongAdder ofRun = droppedByRun.get(frame.runId(i));
            if (ofRun != null) {
                ofRun.increment();
            }
        }
        warnAboutDrops(true, callback.cause);
    }

    /**
     * {@inheritDoc}
     *
     * <p>A snapshot without a {@code frameKey} of a run whose RunStarted named one (its iterations go out in frames)
     * is sent with that frame key filled in, so that the streams apps meet it with its run's frames.
     */
    @Override
    public void spectrum(SpectrumSnapshot record) {
        String runId = record.getRunId();
        String frameKey = frameKeyOfRun.get(runId);
        if (record.getFrameKey() == null && frameKey != null) {
            record = SpectrumSnapshot.newBuilder(record).setFrameKey(frameKey).build();
        }
        byte[] value = spectraSerde.serialize(Topics.SPECTRA, record);
        sendOrDrop(new ProducerRecord<>(Topics.SPECTRA, runId, value), runId, RecordType.SPECTRUM, droppedSpectra);
    }

    /** Offers a record once (waiting at most max.block.ms); if not taken, drops it and counts it against its run. */
    private void sendOrDrop(ProducerRecord<String, byte[]> record, String runId, RecordType type, LongAdder droppedOfKind) {
        SendCallback callback = new SendCallback(runId, null, type, null);
        Future<RecordMetadata> future = callback.send(record);
        if (future != null && !callback.failedInSend) {
            lastSends.computeIfAbsent(runId, id -> new ConcurrentHashMap<>()).put(record.topic(), future);
        }
        if (callback.failedInSend) {
            // Not enqueued within max.block.ms (buffer full, or no metadata): drop, count, go on training.
            droppedOfKind.increment();
            droppedByType[type.ordinal()].increment();
            LongAdder ofRun = droppedByRun.get(runId);
            if (ofRun != null) {
                ofRun.increment();
            }
            warnAboutDrops(true, callback.cause);
        } else {
            sent.increment();
        }
    }

    @Override
    public void runFinished(RunFinished record) {
        awaitDelivered(record.getRunId());
        byte[] value = runsSerde.serialize(Topics.RUNS, record);
        CompletableFuture<Boolean> outcome = new CompletableFuture<>();
        finishing.put(record.getRunId(), outcome);
        try {
            sendControl(new ProducerRecord<>(Topics.RUNS, Topics.runFinishedKey(record.getRunId()), value),
                    record.getRunId(), RecordType.RUN_FINISHED, outcome);
        } catch (TelemetryException e) {
            finishing.remove(record.getRunId(), outcome);
            throw e;
        } finally {
            droppedByRun.remove(record.getRunId());
            String frameKey = frameKeyOfRun.remove(record.getRunId());
            if (frameKey != null) {
                runsOfFrameKey.computeIfPresent(frameKey, (key, count) -> {
                    if (count.decrementAndGet() > 0) {
                        return count;
                    }
                    lastFrameSends.remove(key);
                    return null;
                });
            }
        }
    }

    /**
     * Whether the run's RunFinished handed over last reached the broker. Only RunFinished records still in flight,
     * or failed and not yet asked about, are remembered (a delivered one is forgotten at once).
     */
    @Override
    public Delivery finishedDelivery(String runId) {
        CompletableFuture<Boolean> outcome = finishing.get(runId);
        if (outcome == null) {
            return Delivery.DONE;
        }
        return new Delivery() {
            @Override
            public boolean isDone() {
                return outcome.isDone();
            }

            @Override
            public boolean await(Duration timeout) {
                try {
                    outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
                    finishing.remove(runId, outcome);  // asked for once: forget a failed one too
                    return true;
                } catch (java.util.concurrent.TimeoutException e) {
                    return false;
                } catch (ExecutionException e) {
                    return true;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }

            @Override
            public boolean failed() {
                return outcome.isDone() && !outcome.join();
            }
        };
    }

    /**
     * Records dropped (not taken by the producer: buffer full, or a RunStarted / RunFinished refused for good) of one
     * type, since start; {@code ITERATION} counts run-iterations (a frame as many as it has runs). The trainer shows
     * these, and {@link #failedRecords(RecordType)}, as Prometheus counters.
     */
    public long droppedRecords(RecordType type) {
        return droppedByType[type.ordinal()].sum();
    }

    /** Records of one type taken by the producer that then failed to be delivered, since start. */
    public long failedRecords(RecordType type) {
        return failedByType[type.ordinal()].sum();
    }

    /** The kinds of record a trainer publishes: the {@code type} label of the loss counters. */
    public enum RecordType {
        RUN_STARTED("run_started"), RUN_FINISHED("run_finished"), ITERATION("iteration"), SPECTRUM("spectrum");

        final String label;

        RecordType(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static LongAdder[] adders() {
        LongAdder[] adders = new LongAdder[RecordType.values().length];
        for (int i = 0; i < adders.length; i++) {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    /**
     * Waits (at most the control timeout) until the run's last iteration and spectrum records are on the
     * broker, so that a RunFinished never reaches the topics before the records it closes: consumers may
     * treat records arriving after a run's RunFinished as late. Records of one run and topic share a
     * partition and arrive in order, so the last one stands for all; for a run published in frames, the latest
     * frame under its frame key stands for all of its frames.
     */
    private void awaitDelivered(String runId) {
        List<Future<RecordMetadata>> last = lastSendsOf(runId, true);
        if (last.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + controlTimeout.toNanos();
        for (Future<RecordMetadata> future : last) {
            try {
                future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                // Counted as failed by the callback; the RunFinished still goes out.
            } catch (java.util.concurrent.TimeoutException e) {
                LOG.warn("run {}: its last records were not acknowledged within {}; sending RunFinished anyway", runId,
                        seconds(controlTimeout));
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The latest iteration and spectrum records of the run handed to the producer so far: done when the broker
     * acknowledged them (or their delivery failed, counted as dropped). Records of one run and topic share a
     * partition and arrive in order, so the last one stands for all before it. Never blocks.
     */
    @Override
    public Delivery delivery(String runId) {
        List<Future<RecordMetadata>> futures = lastSendsOf(runId, false);
        if (futures.isEmpty()) {
            return Delivery.DONE;
        }
        return new Delivery() {
            @Override
            public boolean isDone() {
                return futures.stream().allMatch(Future::isDone);
            }

            @Override
            public boolean await(Duration timeout) {
                long deadline = System.nanoTime() + timeout.toNanos();
                for (Future<RecordMetadata> future : futures) {
                    try {
                        future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (ExecutionException e) {
                        // Failed for good: counted as dropped by the callback.
                    } catch (java.util.concurrent.TimeoutException e) {
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return true;
            }
        };
    }

    /** The latest sends of the run's records per topic and of its frames; {@code forget} drops its own entry. */
    private List<Future<RecordMetadata>> lastSendsOf(String runId, boolean forget) {
        Map<String, Future<RecordMetadata>> own = forget ? lastSends.remove(runId) : lastSends.get(runId);
        List<Future<RecordMetadata>> futures = new java.util.ArrayList<>(own == null ? List.of() : own.values());
        String frameKey = frameKeyOfRun.get(runId);
        Future<RecordMetadata> frame = frameKey == null ? null : lastFrameSends.get(frameKey);
        if (frame != null) {
            futures.add(frame);
        }
        return futures;
    }

    /** Iteration and spectrum records of a run in progress dropped so far (not enqueued in time, or failed to deliver). */
    @Override
    public long droppedRecords(String runId) {
        LongAdder ofRun = droppedByRun.get(runId);
        return ofRun == null ? 0 : ofRun.sum();
    }

    /**
     * Iteration records dropped because they could not be enqueued within max.block.ms, since start; a dropped frame
     * counts once per run it covers.
     */
    public long droppedRecords() {
        return dropped.sum();
    }

    /** SpectrumSnapshot records dropped because they could not be enqueued within max.block.ms, since start. */
    public long droppedSpectra() {
        return droppedSpectra.sum();
    }

    /** Records (of any kind; a frame once per run) accepted by the producer that then failed to be delivered, since start. */
    public long failedRecords() {
        return failed.sum();
    }

    /** Records handed to the producer, since start; a frame counts once per run it covers. */
    public long sentRecords() {
        return sent.sum();
    }

    /** Blocks until every record handed over so far is delivered or failed. */
    public void flush() {
        producer.flush();
    }

    /** Flushes and closes, waiting at most 30 s for the delivery of what is buffered. */
    @Override
    public void close() {
        close(DEFAULT_CLOSE_TIMEOUT);
    }

    /** Flushes and closes, waiting at most {@code timeout}; records still undelivered then are lost. */
    public void close(Duration timeout) {
        producer.close(timeout);
        if (dropped.sum() > 0 || droppedSpectra.sum() > 0 || failed.sum() > 0) {
            LOG.warn("telemetry publisher closed: {} records sent, {} iteration and {} spectrum records dropped, {} failed to deliver",
                    sent.sum(), dropped.sum(), droppedSpectra.sum(), failed.sum());
        }
    }

    /**
     * Offers a RunStarted / RunFinished until it is enqueued or the control timeout has passed. Each
     * refused attempt has already waited max.block.ms inside {@code send}, so this does not spin.
     */
    private void sendControl(ProducerRecord<String, byte[]> record, String runId, RecordType type,
                             CompletableFuture<Boolean> outcome) {
        long deadline = System.nanoTime() + controlTimeout.toNanos();
        while (true) {
            SendCallback callback = new SendCallback(runId, null, type, outcome);
            callback.send(record);
            if (!callback.failedInSend) {
                sent.increment();
                return;
            }
            if (!(callback.cause instanceof RetriableException)) {
                // e.g. RecordTooLargeException or an authorization error: offering it again will not help.
                droppedByType[type.ordinal()].increment();
                throw new TelemetryException("the Kafka producer refused " + record.key(), callback.cause);
            }
            if (System.nanoTime() >= deadline) {
                droppedByType[type.ordinal()].increment();
                throw new TelemetryException("could not hand " + record.key() + " to the Kafka producer within "
                        + seconds(controlTimeout), callback.cause);
            }
            LOG.debug("retrying {}: {}", record.key(), callback.cause.toString());
        }
    }

    /** Logs a lost iteration record, at most once per 10 s (a slow broker would otherwise flood the log). */
    private void warnAboutDrops(boolean inSend, Exception cause) {
        long now = System.nanoTime();
        long last = lastDropWarningNanos.get();
        if (now - last > 10_000_000_000L && lastDropWarningNanos.compareAndSet(last, now)) {
            String what = inSend ? "the Kafka producer did not take an iteration or spectrum record within max.block.ms"
                    : "an iteration or spectrum record was not delivered";
            LOG.warn("losing telemetry: {} ({} dropped, {} failed so far): {}", what, dropped.sum(), failed.sum(),
                    cause == null ? "" : cause.toString());
        }
    }

    private static String seconds(Duration duration) {
        return duration.toMillis() / 1000.0 + " s";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TelemetryException("interrupted while waiting for Kafka topic metadata", e);
        }
    }

    /**
     * Sends one record and tells apart the two ways that can fail. KafkaProducer reports a record
     * it could not enqueue (buffer full, or metadata missing, after max.block.ms) by calling the
     * callback synchronously, inside {@code send}, on the caller's thread (or, for some errors, by
     * throwing); a delivery failure arrives later, on the producer's I/O thread.
     */
    private final class SendCallback implements Callback {
        private final Thread caller = Thread.currentThread();
        /** The run of a per-run record, or null for a frame. */
        private final String runId;
        /** The runs of a frame, or null for a per-run record. */
        private final List<String> frameRuns;
        private final RecordType type;
        /** Completed with whether a RunFinished was delivered; null for other records. */
        private final CompletableFuture<Boolean> outcome;
        /** True while {@link #send} runs; read only by a callback on the caller's own thread. */
        private boolean sending;
        boolean failedInSend;
        Exception cause;

        SendCallback(String runId, List<String> frameRuns, RecordType type, CompletableFuture<Boolean> outcome) {
            this.runId = runId;
            this.frameRuns = frameRuns;
            this.type = type;
            this.outcome = outcome;
        }

        /** @return the send's future, or null when the record was not taken */
        Future<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
            sending = true;
            try {
                return producer.send(record, this);
            } catch (KafkaException e) {
                failedInSend = true;
                cause = e;
                return null;
            } finally {
                sending = false;
            }
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception exception) {
            if (exception == null) {
                if (outcome != null && outcome.complete(true)) {
                    finishing.remove(runId, outcome);  // delivered: nothing to remember
                }
                return;
            }
            if (Thread.currentThread() == caller && sending) {
                failedInSend = true;
                cause = exception;
                return;
            }
            int records = frameRuns == null ? 1 : frameRuns.size();
            failed.add(records);
            failedByType[type.ordinal()].add(records);
            if (outcome != null) {
                outcome.complete(false);
            }
            if (type == RecordType.ITERATION || type == RecordType.SPECTRUM) {
                for (String lost : frameRuns == null ? List.of(runId) : frameRuns) {
                    LongAdder ofRun = droppedByRun.get(lost);
                    if (ofRun != null) {
                        ofRun.increment();
                    }
                }
                warnAboutDrops(false, exception);
            } else {
                LOG.error("a run record was not delivered to Kafka: {}", exception.toString());
            }
        }
    }
}
