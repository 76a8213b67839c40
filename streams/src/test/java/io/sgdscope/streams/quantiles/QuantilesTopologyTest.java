package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.quantiles.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.QuantileSummary;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.TelemetrySerdes;
import io.sgdscope.streams.UnreadableRecordHandler;
import io.sgdscope.streams.metrics.MeterNames;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantiles topology on the test driver. References are computed here from the values fed in:
 * exact sums in BigDecimal, exact order statistics and ranks from the sorted values.
 *
 * <p>Quantile definition checked (the topology's, see {@link Quantiles}): the q-quantile of n values is
 * the ⌈q·n⌉-th smallest.
 */
class QuantilesTopologyTest {

    private static final String EXPERIMENT = "gauss10";
    /** The quantile levels in percent, so that ⌈q·n⌉ is integer arithmetic here. */
    private static final int[] PERCENTS = {5, 10, 25, 50, 75, 90, 95};

    @TempDir
    Path stateDir;

    private PrometheusMeterRegistry registry;
    private QuantileBands bands;
    private TopologyTestDriver driver;
    private TestInputTopic<String, IterationMetrics> iterations;
    private TestOutputTopic<String, QuantileSummary> quantiles;

    @BeforeEach
    void startDriver() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bands = new QuantileBands(registry);
        Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        QuantilesTopology topology = new QuantilesTopology(QuantilesTopology.DEFAULT_METRICS,
                QuantilesTopology.DEFAULT_SKETCH_K, bands, registry, clock);

        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "quantiles-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        properties.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        properties.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, UnreadableRecordHandler.class);
        properties.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, Topics.DEAD_LETTERS);
        properties.put(UnreadableRecordHandler.METER_REGISTRY_CONFIG, registry);
        driver = new TopologyTestDriver(topology.build(), properties);

        iterations = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), TelemetrySerdes.iterations());
        quantiles = driver.createOutputTopic(Topics.QUANTILES, new StringDeserializer(), TelemetrySerdes.quantiles());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
        registry.close();
    }

    @Test
    void summaryOfManyRunsHasExactCountMeanMinMaxAndQuantilesWithinTheSketchBound() {
        int runs = 2_000;
        int[] iterationsFed = {0, 1, 7};
        Random random = new Random(42);
        Map<Integer, double[]> losses = new HashMap<>();
        for (int t : iterationsFed) {
            losses.put(t, new double[runs]);
        }
        // Runs in lockstep: every run's iteration t before any run's t + 1.
        for (int t : iterationsFed) {
            for (int run = 0; run < runs; run++) {
                double loss = Math.exp(random.nextGaussian() - 0.3 * t); // log-normal, like losses across seeds
                losses.get(t)[run] = loss;
                pipe(EXPERIMENT, "run-" + run, t, loss);
            }
        }

        Map<String, QuantileSummary> latest = quantiles.readKeyValuesToMap();
        assertEquals(iterationsFed.length, latest.size(), "one summary key per iteration");
        for (int t : iterationsFed) {
            QuantileSummary summary = latest.get(Topics.quantileKey(EXPERIMENT, "loss", t));
            double[] sorted = losses.get(t).clone();
            Arrays.sort(sorted);

            assertEquals(runs, summary.getCount());
            assertEquals(exactMean(sorted), summary.getMean(), 1e-14 * Math.abs(exactMean(sorted)), "mean at " + t);
            assertEquals(sorted[0], summary.getMin(), "min at " + t);
            assertEquals(sorted[runs - 1], summary.getMax(), "max at " + t);
            assertTrue(summary.getNormalizedRankError() > 0, "2,000 values are more than k: the sketch estimates");

            double[] estimates = quantilesOf(summary);
            for (int i = 0; i < PERCENTS.length; i++) {
                double error = rankError(sorted, estimates[i], PERCENTS[i] / 100.0);
                assertTrue(error <= summary.getNormalizedRankError(), "iteration " + t + ", " + PERCENTS[i]
                        + " %: rank error " + error + " > bound " + summary.getNormalizedRankError());
            }
        }
    }

    @Test
    void withAtMostKValuesTheQuantilesAreTheExactOrderStatistics() {
        int[] ensembleSizes = {1, 5, 37, 100, QuantilesTopology.DEFAULT_SKETCH_K};
        Random random = new Random(7);
        for (int n : ensembleSizes) {
            String experiment = "ensemble-of-" + n;
            double[] values = new double[n];
            for (int run = 0; run < n; run++) {
                values[run] = 2.3 * random.nextDouble();
                pipe(experiment, experiment + "-run-" + run, 0, values[run]);
            }
            double[] sorted = values.clone();
            Arrays.sort(sorted);

            QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(experiment, "loss", 0));
            assertEquals(n, summary.getCount());
            assertEquals(0.0, summary.getNormalizedRankError(), "every value is kept while n <= k");
            double[] estimates = quantilesOf(summary);
            for (int i = 0; i < PERCENTS.length; i++) {
                int rank = (PERCENTS[i] * n + 99) / 100; // ⌈q·n⌉, 1-based
                assertEquals(sorted[rank - 1], estimates[i], n + " values, " + PERCENTS[i] + " %");
            }
        }
    }

    @Test
    void tenThousandValuesKeepEveryQuantileWithinOnePercentOfRank() {
        int runs = 10_000;
        Random random = new Random(2026);
        double[] values = new double[runs];
        List<KeyValue<String, IterationMetrics>> records = new ArrayList<>(runs);
        for (int run = 0; run < runs; run++) {
            values[run] = Math.exp(2 * random.nextGaussian());
            records.add(KeyValue.pair("run-" + run, iteration(EXPERIMENT, "run-" + run, 3, values[run])));
        }
        iterations.pipeKeyValueList(records);
        Arrays.sort(values);

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 3));
        assertEquals(runs, summary.getCount());
        double[] estimates = quantilesOf(summary);
        for (int i = 0; i < PERCENTS.length; i++) {
            double error = rankError(values, estimates[i], PERCENTS[i] / 100.0);
            assertTrue(error <= 0.01, PERCENTS[i] + " %: normalised rank error " + error + " > 1 %");
        }
    }

    @Test
    void frontierFollowsTheNewestRunWhenRunsArriveOneAfterAnother() {
        feedRun("run-a", 0, 9);
        assertFrontier(9, 1);

        feedRun("run-b", 0, 0);
        assertFrontier(0, 2); // two runs at iteration 0 now: the most runs anywhere
        feedRun("run-b", 1, 5);
        assertFrontier(5, 2);
        feedRun("run-b", 6, 9);
        assertFrontier(9, 2);

        feedRun("run-c", 0, 3);
        assertFrontier(3, 3);
    }

    @Test
    void frontierIsTheLatestIterationAllRunsReachedWhenRunsAreInLockstep() {
        List<String> runs = List.of("run-a", "run-b", "run-c", "run-d");
        for (int t = 0; t < 6; t++) {
            for (String run : runs) {
                pipe(EXPERIMENT, run, t, 1.0 / (t + 1));
            }
            assertFrontier(t, 4);
        }
        // Half the runs one step ahead: the band stays where all four are.
        pipe(EXPERIMENT, "run-a", 6, 0.1);
        pipe(EXPERIMENT, "run-b", 6, 0.1);
        assertFrontier(5, 4);
        pipe(EXPERIMENT, "run-c", 6, 0.1);
        pipe(EXPERIMENT, "run-d", 6, 0.1);
        assertFrontier(6, 4);
    }

    @Test
    void gaugesShowTheSummaryOfTheFrontierIteration() {
        Random random = new Random(3);
        int runs = 25;
        for (int t = 0; t < 4; t++) {
            for (int run = 0; run < runs; run++) {
                pipe(EXPERIMENT, "run-" + run, t, random.nextDouble() * 3);
            }
        }
        for (int run = 0; run < 10; run++) { // 10 runs at iteration 4: the frontier stays at 3
            pipe(EXPERIMENT, "run-" + run, 4, random.nextDouble());
        }
        QuantileSummary atFrontier = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 3));

        Tags tags = Tags.of(MeterNames.TAG_EXPERIMENT, EXPERIMENT, MeterNames.TAG_METRIC, "loss");
        assertEquals(3.0, gauge(MeterNames.CROSS_RUN_ITERATION, tags));
        assertEquals(runs, gauge(MeterNames.CROSS_RUN_RUNS, tags));
        assertEquals(atFrontier.getMean(), gauge(MeterNames.CROSS_RUN_MEAN, tags));
        assertEquals(atFrontier.getMin(), gauge(MeterNames.CROSS_RUN_MIN, tags));
        assertEquals(atFrontier.getMax(), gauge(MeterNames.CROSS_RUN_MAX, tags));
        assertEquals(0.0, gauge(MeterNames.CROSS_RUN_NON_FINITE, tags));
        assertEquals(atFrontier.getNormalizedRankError(), gauge(MeterNames.CROSS_RUN_RANK_ERROR, tags));
        double[] expected = quantilesOf(atFrontier);
        for (int i = 0; i < expected.length; i++) {
            String level = Quantiles.label(Quantiles.LEVELS.get(i));
            assertEquals(expected[i], gauge(MeterNames.CROSS_RUN_QUANTILE, tags.and(MeterNames.TAG_QUANTILE, level)), level);
        }

        // The same through Prometheus' eyes: the exposition names and labels the dashboards use.
        String scrape = registry.scrape();
        assertTrue(scrape.contains("sgdscope_cross_run_quantile{experiment=\"gauss10\",metric=\"loss\",quantile=\"0.5\"} "
                + atFrontier.getP50()), scrape);
        assertTrue(scrape.contains("sgdscope_cross_run_iteration{experiment=\"gauss10\",metric=\"loss\"} 3.0"), scrape);
        assertTrue(scrape.contains("sgdscope_iteration_records_total{experiment=\"gauss10\"} 110.0"), scrape);
        assertEquals(atFrontier.getP50(), bands.current(EXPERIMENT, "loss").orElseThrow().median());
    }

    @Test
    void nonFiniteLossIsCountedButKeptOutOfTheSketch() {
        double[] losses = {1.0, Double.NaN, 2.0, Double.POSITIVE_INFINITY, 3.0};
        for (int run = 0; run < losses.length; run++) {
            pipe(EXPERIMENT, "run-" + run, 0, losses[run]);
        }

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(3, summary.getCount());
        assertEquals(2.0, summary.getMean());
        assertEquals(1.0, summary.getMin());
        assertEquals(3.0, summary.getMax());
        assertEquals(2.0, summary.getP50());
        assertEquals(3.0, summary.getP95());
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(2, band.nonFinite());
        assertEquals(5, band.runs());
        assertEquals(2.0, registry.get(MeterNames.NON_FINITE_VALUES).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT).counter().count());
    }

    @Test
    void aCorruptRecordIsSkippedCountedAndDeadLetteredAndTheNextRecordIsProcessed() {
        TestInputTopic<String, byte[]> raw = driver.createInputTopic(Topics.ITERATIONS, new StringSerializer(), new ByteArraySerializer());
        byte[] garbage = "not avro at all".getBytes(StandardCharsets.US_ASCII);
        raw.pipeInput("run-x", garbage);
        pipe(EXPERIMENT, "run-y", 0, 0.5);

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(1, summary.getCount());
        assertEquals(0.5, summary.getP50());
        assertEquals(1.0, registry.get(MeterNames.UNREADABLE_RECORDS).tags(MeterNames.TAG_TOPIC, Topics.ITERATIONS).counter().count());

        TestOutputTopic<String, byte[]> deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS, new StringDeserializer(), new ByteArrayDeserializer());
        TestRecord<String, byte[]> copy = deadLetters.readRecord();
        assertEquals("run-x", copy.key());
        assertTrue(Arrays.equals(garbage, copy.value()), "the dead letter carries the original bytes");
        assertEquals(Topics.ITERATIONS, header(copy, "__streams.errors.topic"));
        assertTrue(header(copy, "__streams.errors.message").contains("not an Avro single-object encoded record"),
                header(copy, "__streams.errors.message"));
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void anIterationARunSendsTwiceIsCountedOnce() {
        pipe(EXPERIMENT, "run-a", 0, 1.0);
        pipe(EXPERIMENT, "run-b", 0, 3.0);
        pipe(EXPERIMENT, "run-a", 0, 1.0); // a producer retry, or a restarted trainer

        QuantileSummary summary = quantiles.readKeyValuesToMap().get(Topics.quantileKey(EXPERIMENT, "loss", 0));
        assertEquals(2, summary.getCount());
        assertEquals(2.0, summary.getMean());
        assertEquals(1.0, registry.get(MeterNames.DUPLICATE_ITERATION_RECORDS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT).counter().count());
        assertEquals(3.0, registry.get(MeterNames.ITERATION_RECORDS).tags(MeterNames.TAG_EXPERIMENT, EXPERIMENT).counter().count());
    }

    @Test
    void experimentsHaveBandsOfTheirOwn() {
        pipe("easy", "easy-1", 0, 0.1);
        pipe("hard", "hard-1", 0, 2.0);
        pipe("hard", "hard-1", 1, 1.9);

        assertEquals(0, bands.current("easy", "loss").orElseThrow().iteration());
        assertEquals(0.1, bands.current("easy", "loss").orElseThrow().median());
        assertEquals(1, bands.current("hard", "loss").orElseThrow().iteration());
        assertEquals(1.9, bands.current("hard", "loss").orElseThrow().median());
        assertEquals(List.of("easy", "hard"), bands.all().stream().map(CrossRunBand::experimentId).toList());
    }

    private void pipe(String experiment, String run, int t, double loss) {
        iterations.pipeInput(run, iteration(experiment, run, t, loss));
    }

    private void feedRun(String run, int from, int to) {
        for (int t = from; t <= to; t++) {
            pipe(EXPERIMENT, run, t, 1.0 / (t + 1));
        }
    }

    private void assertFrontier(int iteration, long runs) {
        CrossRunBand band = bands.current(EXPERIMENT, "loss").orElseThrow();
        assertEquals(iteration, band.iteration(), "frontier iteration");
        assertEquals(runs, band.runs(), "runs at the frontier");
    }

    private double gauge(String name, Tags tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    private static double[] quantilesOf(QuantileSummary summary) {
        return new double[] {summary.getP05(), summary.getP10(), summary.getP25(), summary.getP50(),
                summary.getP75(), summary.getP90(), summary.getP95()};
    }

    private static double exactMean(double[] values) {
        BigDecimal sum = BigDecimal.ZERO;
        for (double value : values) {
            sum = sum.add(new BigDecimal(value));
        }
        return sum.divide(BigDecimal.valueOf(values.length), MathContext.DECIMAL128).doubleValue();
    }

    /**
     * How far the target rank is from the ranks the estimate actually has among the sorted values:
     * an estimate v spans normalised ranks [#(x < v)/n, #(x ≤ v)/n].
     */
    private static double rankError(double[] sorted, double estimate, double target) {
        double below = countBelow(sorted, estimate, false) / (double) sorted.length;
        double upTo = countBelow(sorted, estimate, true) / (double) sorted.length;
        return Math.max(0, Math.max(below - target, target - upTo));
    }

    private static int countBelow(double[] sorted, double value, boolean inclusive) {
        int count = 0;
        for (double x : sorted) {
            if (x < value || (inclusive && x == value)) {
                count++;
            }
        }
        return count;
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
