package io.sgdscope.streams;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * One streams app's topology on the {@link TopologyTestDriver}, set up as every topology test needs it: a fresh
 * Prometheus registry, {@link Telemetry#driverProperties} (records that fail dead-lettered and counted), and the
 * input topics the apps read (iterations per run or as frames, and the runs' lifecycle records). Closing it closes
 * the driver and the registry.
 */
public final class TopologyOnDriver implements AutoCloseable {

    /** The fixed clock the topologies under test are given: 2026-01-01T00:00:00Z. */
    public static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    public final TopologyTestDriver driver;
    /** IterationMetrics, one per run and iteration, on {@link Topics#ITERATIONS}. */
    public final TestInputTopic<String, IterationMetrics> iterations;
    /** IterationFrames, one per block of runs and iteration, on {@link Topics#ITERATIONS}. */
    public final TestInputTopic<String, Frame> frames;
    /** RunStarted and RunFinished on {@link Topics#RUNS}. */
    public final TestInputTopic<String, SpecificRecord> runs;

    /**
     * @param stateDir the driver's state folder
     * @param topology builds the topology under test with the driver's registry
     */
    public TopologyOnDriver(Path stateDir, Function<PrometheusMeterRegistry, Topology> topology) {
        driver = new TopologyTestDriver(topology.apply(registry), Telemetry.driverProperties(stateDir, registry));
        iterations = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), TelemetrySerdes.iterations());
        frames = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), TelemetrySerdes.frames().serializer());
        runs = driver.createInputTopic(Topics.RUNS, new StringSerializer(), TelemetrySerdes.runs());
    }

    /** Another input topic of the topology (e.g. sgd.spectra), keys as strings. */
    public <V> TestInputTopic<String, V> input(String topic, org.apache.kafka.common.serialization.Serializer<V> values) {
        return driver.createInputTopic(topic, new StringSerializer(), values);
    }

    /** An output topic of the topology, keys as strings. */
    public <V> TestOutputTopic<String, V> output(String topic, Deserializer<V> values) {
        return driver.createOutputTopic(topic, new StringDeserializer(), values);
    }

    @Override
    public void close() {
        driver.close();
        registry.close();
    }
}
