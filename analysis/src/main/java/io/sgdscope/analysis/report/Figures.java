package io.sgdscope.analysis.report;

import io.sgdscope.schemas.RunFinished;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToDoubleBiFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The paper's figures drawn from an experiment's records, as SVG (JFreeChart onto JFreeSVG's
 * Graphics2D): crisp vector figures with axes, labels and legends. Quantiles across runs are exact
 * (interpolated order statistics, {@link Statistics#quantile}) and computed in float64.
 */
final class Figures {

    static final int WIDTH = 900;
    static final int HEIGHT = 420;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)};

    /** A drawn figure, or why it could not be drawn. */
    record Figure(String id, String title, String caption, Optional<String> svg, String missing) {

        static Figure of(String id, String title, String caption, JFreeChart chart) {
            return new Figure(id, title, caption, Optional.of(Figures.svg(chart, id)), null);
        }

        static Figure missing(String id, String title, String why) {
            return new Figure(id, title, "", Optional.empty(), why);
        }
    }

    private Figures() {}

    /** Fig. 8: quantile bands across runs (p10-p90, p25-p75 shaded, median as a line) of a per-iteration quantity. */
    static Figure band(String id, String title, String yLabel, ExperimentData data, ToDoubleBiFunction<RunSeries, Integer> value,
                       boolean logScale) {
        int iterations = data.iterations();
        YIntervalSeries wide = new YIntervalSeries("p10 - p90");
        YIntervalSeries narrow = new YIntervalSeries("p25 - p75 (line: median)");
        double[] values = new double[data.series.size()];
        boolean positive = true;
        for (int t = 0; t < iterations; t++) {
            int n = 0;
            for (RunSeries run : data.series.values()) {
                values[n++] = value.applyAsDouble(run, t);
            }
            double[] sorted = Statistics.finiteSorted(values, n);
            if (sorted.length == 0) {
                continue;
            }
            double median = Statistics.quantile(sorted, 0.5);
            wide.add(t, median, Statistics.quantile(sorted, 0.10), Statistics.quantile(sorted, 0.90));
            narrow.add(t, median, Statistics.quantile(sorted, 0.25), Statistics.quantile(sorted, 0.75));
            positive &= sorted[0] > 0;
        }
        if (wide.getItemCount() == 0) {
            return Figure.missing(id, title, "no finite values of " + yLabel);
        }
        YIntervalSeriesCollection dataset = new YIntervalSeriesCollection();
        dataset.addSeries(wide);
        dataset.addSeries(narrow);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "iteration t", yLabel, dataset, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        DeviationRenderer renderer = new SeriesGroups.Bands();
        renderer.setSeriesPaint(0, PALETTE[0]);
        renderer.setSeriesFillPaint(0, new Color(0x1f, 0x77, 0xb4, 60));
        renderer.setSeriesPaint(1, PALETTE[0]);
        renderer.setSeriesFillPaint(1, new Color(0x1f, 0x77, 0xb4, 110));
        renderer.setSeriesStroke(0, new BasicStroke(1.5f));
        renderer.setSeriesStroke(1, new BasicStroke(1.5f));
        renderer.setAlpha(1f);
        plot.setRenderer(renderer);
        if (logScale && positive) {
            LogAxis axis = new LogAxis(yLabel + " (log scale)");
            axis.setSmallestValue(1e-12);
            plot.setRangeAxis(axis);
        }
        style(chart);
        return Figure.of(id, title, "Quantiles across " + data.series.size() + " runs at each iteration (exact, linear "
                + "interpolation between order statistics).", chart);
    }

    /** Fig. 9: the distribution across runs of Delta_t(f) at chosen iterations, as box plots. */
    static Figure lossChangeDistributions(ExperimentData data) {
        String id = "fig9";
        String title = "Fig. 9 - distribution of \u0394t(f) = f(\u03b8t+1) - f(\u03b8t) across runs";
        int iterations = data.iterations();
        if (iterations < 2) {
            return Figure.missing(id, title, "fewer than two iterations");
        }
        DefaultBoxAndWhiskerCategoryDataset dataset = new DefaultBoxAndWhiskerCategoryDataset();
        for (int t : chosenIterations(iterations - 1)) {
            List<Double> changes = new ArrayList<>();
            for (RunSeries run : data.series.values()) {
                double change = run.lossChange(t);
                if (Double.isFinite(change)) {
                    changes.add(change);
                }
            }
            if (!changes.isEmpty()) {
                dataset.add(changes, "\u0394t(f)", "t = " + t);
            }
        }
        if (dataset.getColumnCount() == 0) {
            return Figure.missing(id, title, "no finite loss changes");
        }
        JFreeChart chart = ChartFactory.createBoxAndWhiskerChart(title, "iteration", "\u0394t(f)", dataset, false);
        CategoryPlot plot = chart.getCategoryPlot();
        BoxAndWhiskerRenderer renderer = new SeriesGroups.Boxes();
        plot.setRenderer(renderer);
        renderer.setSeriesPaint(0, new Color(0x1f, 0x77, 0xb4, 150));
        renderer.setMeanVisible(false);
        renderer.setMaxOutlierVisible(false);
        renderer.setMinOutlierVisible(false);
        style(chart);
        return Figure.of(id, title, "Boxes: quartiles and median across runs; whiskers: 1.5 IQR.", chart);
    }

    /** Fig. 10: the variance across runs of Delta_t(f) at each iteration. */
    static Figure lossChangeVariance(ExperimentData data) {
        String id = "fig10";
        String title = "Fig. 10 - variance of \u0394t(f) across runs";
        XYSeries variance = new XYSeries("Var[\u0394t(f)]");
        double[] values = new double[data.series.size()];
        for (int t = 0; t + 1 < data.iterations(); t++) {
            int n = 0;
            for (RunSeries run : data.series.values()) {
                values[n++] = run.lossChange(t);
            }
            double v = Statistics.variance(Statistics.finiteSorted(values, n));
            if (Double.isFinite(v)) {
                variance.add(t, v);
            }
        }
        if (variance.getItemCount() == 0) {
            return Figure.missing(id, title, "the variance needs two runs with two iterations");
        }
        return Figure.of(id, title, "Sample variance (divisor n - 1) of the finite \u0394t(f) of all runs.",
                lines(title, "iteration t", "variance", List.of(variance)));
    }

    /** Fig. 2: top eigenvalues of H_f and M_t and the principal-angle cosines, medians across runs per snapshot iteration. */
    static List<Figure> spectra(ExperimentData data) {
        String eigenTitle = "Fig. 2 - top eigenvalues of H_f and M_t (median across runs)";
        String cosineTitle = "Fig. 2 - cosines of the principal angles between the top eigenspaces of H_f and M_t (Eq. 13)";
        if (data.spectra.isEmpty()) {
            String why = "no SpectrumSnapshot records for this experiment (train with --spectrum-every)";
            return List.of(Figure.missing("fig2-eigenvalues", eigenTitle, why), Figure.missing("fig2-cosines", cosineTitle, why));
        }
        Map<Integer, List<ExperimentData.Spectrum>> byIteration = new TreeMap<>();
        data.spectra.forEach(s -> byIteration.computeIfAbsent(s.iteration(), i -> new ArrayList<>()).add(s));
        List<XYSeries> eigen = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            eigen.add(medianSeries("\u03bb" + (i + 1) + "(H_f)", byIteration, ExperimentData.Spectrum::hessian, i));
            eigen.add(medianSeries("\u03bb" + (i + 1) + "(M_t)", byIteration, ExperimentData.Spectrum::secondMoment, i));
        }
        List<XYSeries> cosines = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            cosines.add(medianSeries("cos \u03b8" + (i + 1), byIteration, ExperimentData.Spectrum::cosines, i));
        }
        eigen.removeIf(s -> s.getItemCount() == 0);
        cosines.removeIf(s -> s.getItemCount() == 0);
        return List.of(
                eigen.isEmpty() ? Figure.missing("fig2-eigenvalues", eigenTitle, "no eigenvalues in the snapshots")
                        : Figure.of("fig2-eigenvalues", eigenTitle, "Median across runs at each snapshot iteration.",
                                lines(eigenTitle, "iteration t", "eigenvalue", eigen)),
                cosines.isEmpty() ? Figure.missing("fig2-cosines", cosineTitle, "no principal-angle cosines in the snapshots")
                        : Figure.of("fig2-cosines", cosineTitle, "Largest first; 1 = a shared direction, 0 = orthogonal.",
                                lines(cosineTitle, "iteration t", "cosine", cosines)));
    }

    /** Fig. 1: histograms of the full spectrum of H_f of one run at its first, a middle and its last snapshot. */
    static Figure fullSpectra(ExperimentData data) {
        String id = "fig1";
        String title = "Fig. 1 - full spectrum of H_f" + (data.fullSpectrumRun == null ? "" : " (run " + data.fullSpectrumRun + ")");
        List<ExperimentData.Spectrum> full = data.spectra.stream().filter(s -> s.hessianFull() != null).toList();
        if (full.isEmpty()) {
            return Figure.missing(id, title, "no full spectra published (small p and --full-spectrum)");
        }
        HistogramDataset dataset = new HistogramDataset();
        List<ExperimentData.Spectrum> chosen = full.size() <= 3 ? full
                : List.of(full.get(0), full.get(full.size() / 2), full.get(full.size() - 1));
        for (ExperimentData.Spectrum s : chosen) {
            double[] values = s.hessianFull().stream().mapToDouble(Double::doubleValue).toArray();
            dataset.addSeries("t = " + s.iteration(), values, 60);
        }
        JFreeChart chart = ChartFactory.createHistogram(title, "eigenvalue of H_f", "count", dataset, PlotOrientation.VERTICAL,
                true, false, false);
        XYBarRenderer renderer = bars(chart);
        renderer.setShadowVisible(false);
        renderer.setDrawBarOutline(false);
        for (int i = 0; i < chosen.size(); i++) {
            Color c = PALETTE[i];
            renderer.setSeriesPaint(i, new Color(c.getRed(), c.getGreen(), c.getBlue(), 140));
        }
        style(chart);
        return Figure.of(id, title, "All p eigenvalues of the dense Hessian at three iterations of one run.", chart);
    }

    /** Fig. 11: distributions across runs of the generalization terms of Corollary 4 at the end of the runs. */
    static List<Figure> generalization(ExperimentData data) {
        List<Figure> figures = new ArrayList<>();
        figures.add(histogram("fig11-curvature", "Fig. 11 - effective curvature (Eq. 52) across runs", "effective curvature",
                data.finishes.values(), RunFinished::getEffectiveCurvature));
        figures.add(histogram("fig11-frobenius", "Fig. 11 - weighted Frobenius norm ||\u03b8 - \u03b80||\u00b2/\u03c3\u00b2 across runs",
                "weighted Frobenius norm", data.finishes.values(), RunFinished::getWeightedFrobenius));
        figures.add(histogram("fig11-bound", "Fig. 11 - generalization bound (Eq. 52) across runs", "bound",
                data.finishes.values(), RunFinished::getGeneralizationBound));
        return figures;
    }

    private static Figure histogram(String id, String title, String label, java.util.Collection<RunFinished> finishes,
                                    Function<RunFinished, Double> value) {
        double[] values = finishes.stream().map(value).filter(v -> v != null && Double.isFinite(v)).mapToDouble(Double::doubleValue)
                .toArray();
        if (values.length == 0) {
            return Figure.missing(id, title, "no run published it (computed at the end of a run by the curvature probes)");
        }
        HistogramDataset dataset = new HistogramDataset();
        dataset.addSeries(label, values, Math.max(5, Math.min(50, values.length / 4)));
        JFreeChart chart = ChartFactory.createHistogram(title, label, "runs", dataset, PlotOrientation.VERTICAL, true, false, false);
        XYBarRenderer renderer = bars(chart);
        renderer.setShadowVisible(false);
        renderer.setSeriesPaint(0, PALETTE[0]);
        style(chart);
        return Figure.of(id, title, values.length + " runs.", chart);
    }

    private static XYSeries medianSeries(String name, Map<Integer, List<ExperimentData.Spectrum>> byIteration,
                                         Function<ExperimentData.Spectrum, List<Double>> values, int index) {
        XYSeries series = new XYSeries(name);
        for (Map.Entry<Integer, List<ExperimentData.Spectrum>> entry : byIteration.entrySet()) {
            double[] at = new double[entry.getValue().size()];
            int n = 0;
            for (ExperimentData.Spectrum s : entry.getValue()) {
                List<Double> list = values.apply(s);
                at[n++] = list != null && list.size() > index ? list.get(index) : Double.NaN;
            }
            double median = Statistics.quantile(Statistics.finiteSorted(at, n), 0.5);
            if (Double.isFinite(median)) {
                series.add(entry.getKey().doubleValue(), median);
            }
        }
        return series;
    }

    private static JFreeChart lines(String title, String x, String y, List<XYSeries> series) {
        XYSeriesCollection dataset = new XYSeriesCollection();
        series.forEach(dataset::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, dataset, PlotOrientation.VERTICAL, true, false, false);
        XYLineAndShapeRenderer renderer = new SeriesGroups.Lines();
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(1.5f));
        }
        chart.getXYPlot().setRenderer(renderer);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setAutoRangeIncludesZero(false);
        style(chart);
        return chart;
    }

    /** About 8 iterations spread over 0 .. last, early ones denser (the dynamics change fastest there). */
    static List<Integer> chosenIterations(int last) {
        List<Integer> chosen = new ArrayList<>();
        for (int t : new int[] {0, 1, 5, 15, 25, 50, 100, 200, 400, 1000, 3000, 10000}) {
            if (t < last && (chosen.isEmpty() || t > chosen.get(chosen.size() - 1))) {
                chosen.add(t);
            }
        }
        if (chosen.isEmpty() || chosen.get(chosen.size() - 1) != last - 1) {
            chosen.add(Math.max(0, last - 1));
        }
        return chosen;
    }

    /** The histogram's bar renderer replaced by one that names its series in the SVG, with the theme's bar painter. */
    private static XYBarRenderer bars(JFreeChart chart) {
        XYBarRenderer themed = (XYBarRenderer) chart.getXYPlot().getRenderer();
        XYBarRenderer renderer = new SeriesGroups.Bars();
        renderer.setBarPainter(themed.getBarPainter());
        chart.getXYPlot().setRenderer(renderer);
        return renderer;
    }

    /** The chart's legend replaced by one that names its entries in the SVG, looking the same. */
    private static void nameLegendEntries(JFreeChart chart) {
        LegendTitle themed = chart.getLegend();
        if (themed == null) {
            return;
        }
        LegendTitle legend = new SeriesGroups.Legend(chart.getPlot());
        legend.setPosition(themed.getPosition());
        legend.setHorizontalAlignment(themed.getHorizontalAlignment());
        legend.setVerticalAlignment(themed.getVerticalAlignment());
        legend.setMargin(themed.getMargin());
        legend.setPadding(themed.getPadding());
        legend.setFrame(themed.getFrame());
        legend.setBackgroundPaint(themed.getBackgroundPaint());
        legend.setItemFont(themed.getItemFont());
        legend.setItemPaint(themed.getItemPaint());
        legend.setItemLabelPadding(themed.getItemLabelPadding());
        legend.setLegendItemGraphicPadding(themed.getLegendItemGraphicPadding());
        chart.removeLegend();
        chart.addLegend(legend);
    }

    private static void style(JFreeChart chart) {
        nameLegendEntries(chart);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.setElementHinting(true);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        if (chart.getPlot() instanceof XYPlot plot) {
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(new Color(0xdddddd));
            plot.setRangeGridlinePaint(new Color(0xdddddd));
        } else if (chart.getPlot() instanceof CategoryPlot plot) {
            plot.setBackgroundPaint(Color.WHITE);
            plot.setRangeGridlinePaint(new Color(0xdddddd));
        }
    }

    static String svg(JFreeChart chart, String id) {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        g.setDefsKeyPrefix(id + "-"); // ids of clip paths and gradients: unique per figure and the same every time
        chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
        return g.getSVGElement(id);
    }
}
