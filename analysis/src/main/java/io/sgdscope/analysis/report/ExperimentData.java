package io.sgdscope.analysis.report;

import io.sgdscope.analysis.TopicReader;
import io.sgdscope.analysis.TopicRecords;
import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.schemas.Topics;
import io.sgdscope.schemas.serde.UnreadableRecordException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongConsumer;
import org.apache.avro.specific.SpecificRecord;

/**
 * What the report draws, read from the kept topics for one experiment and kept compactly: the
 * runs' provenance and endings, per-run series of loss, ||g|| and cos(g_t, g_{t-1}), spectrum summaries,
 * the full spectra of one run, and the alerts.
 */
public final class ExperimentData {

    /** The top eigenvalues and principal-angle cosines of one snapshot. */
    record Spectrum(String runId, int iteration, List<Double> hessian, List<Double> secondMoment, List<Double> cosines,
                    List<Double> hessianFull) {}

    final String experimentId;
    final List<RunStarted> starts = new ArrayList<>();
    final Map<String, RunFinished> finishes = new TreeMap<>();
    final Map<String, RunSeries> series = new TreeMap<>();
    final List<Spectrum> spectra = new ArrayList<>();
    final List<DeviationAlert> alerts = new ArrayList<>();
    long unreadable;
    /** The run whose full spectra are kept (the first one read that has any): Fig. 1 shows one run. */
    String fullSpectrumRun;

    private ExperimentData(String experimentId) {
        this.experimentId = experimentId;
    }

    /**
     * Reads the experiment's records from the topics.
     *
     * @throws IllegalArgumentException when the experiment has no record (naming those that do)
     */
    public static ExperimentData read(Map<String, Object> clientConfig, String experimentId, LongConsumer progress) {
        ExperimentData data = new ExperimentData(experimentId);
        TreeSet<String> experiments = new TreeSet<>();
        long[] read = {0};
        try (TopicReader reader = new TopicReader(clientConfig)) {
            for (String topic : List.of(Topics.RUNS, Topics.ITERATIONS, Topics.SPECTRA, Topics.ALERTS)) {
                readTopic(reader, topic, data, experiments, read, progress);
            }
        }
        progress.accept(read[0]);
        if (data.series.isEmpty() && data.starts.isEmpty()) {
            throw new IllegalArgumentException("no records of experiment '" + experimentId + "' on the topics ("
                    + (experiments.isEmpty() ? "no experiment at all" : "experiments there: " + String.join(", ", experiments)) + ")");
        }
        data.starts.sort(Comparator.comparingInt(RunStarted::getRunIndex));
        data.spectra.sort(Comparator.comparing(Spectrum::runId).thenComparingInt(Spectrum::iteration));
        return data;
    }

    private static void readTopic(TopicReader reader, String topic, ExperimentData data, TreeSet<String> experiments, long[] read,
                                  LongConsumer progress) {
        TopicRecords decoder = TopicRecords.of(topic);
        reader.readAll(topic, record -> {
            if (++read[0] % 100_000 == 0) {
                progress.accept(read[0]);
            }
            List<? extends SpecificRecord> values;
            try {
                values = decoder.decode(record.topic(), record.partition(), record.offset(), record.value());
            } catch (UnreadableRecordException e) {
                data.unreadable++;
                return;
            }
            for (SpecificRecord value : values) {
                String experiment = String.valueOf(value.get(value.getSchema().getField("experimentId").pos()));
                experiments.add(experiment);
                if (experiment.equals(data.experimentId)) {
                    data.add(value);
                }
            }
        });
    }

    private void add(SpecificRecord record) {
        if (record instanceof IterationMetrics m) {
            series.computeIfAbsent(m.getRunId(), id -> new RunSeries()).put(m.getIteration(), m.getLoss(), m.getSgNorm(),
                    m.getSgCosPrev() == null ? Double.NaN : m.getSgCosPrev());
        } else if (record instanceof RunStarted s) {
            starts.add(s);
        } else if (record instanceof RunFinished f) {
            finishes.put(f.getRunId(), f);
        } else if (record instanceof SpectrumSnapshot s) {
            List<Double> full = s.getHessianFullSpectrum();
            if (full != null && fullSpectrumRun == null) {
                fullSpectrumRun = s.getRunId();
            }
            boolean keepFull = full != null && s.getRunId().equals(fullSpectrumRun);
            spectra.add(new Spectrum(s.getRunId(), s.getIteration(), s.getHessianEigenvalues(), s.getSecondMomentEigenvalues(),
                    s.getPrincipalAngleCosines(), keepFull ? full : null));
        } else if (record instanceof DeviationAlert a) {
            alerts.add(a);
        }
    }

    /** The largest iteration any run reached, plus one. */
    int iterations() {
        return series.values().stream().mapToInt(RunSeries::length).max().orElse(0);
    }
}
