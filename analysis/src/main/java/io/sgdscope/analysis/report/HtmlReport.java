package io.sgdscope.analysis.report;

import io.sgdscope.schemas.DeviationAlert;
import io.sgdscope.schemas.RunFinished;
import io.sgdscope.schemas.RunStarted;
import io.sgdscope.schemas.RunStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One self-contained HTML file (inline SVG and CSS, no script, nothing fetched) with the paper's
 * figures drawn from an experiment's records and its alerts. The same records give the same file.
 */
public final class HtmlReport {

    private static final int ALERT_ROWS = 100;

    private HtmlReport() {}

    /** What a report contains: how many figures were drawn and which could not be. */
    public record Summary(int drawn, List<String> missing) {}

    public static Summary write(ExperimentData data, Path file) throws IOException {
        List<Figures.Figure> figures = new ArrayList<>();
        figures.add(Figures.band("fig8-loss", "Fig. 8 - loss f(\u03b8t) on the training set", "loss (nats)", data,
                RunSeries::loss, true));
        figures.add(Figures.band("fig8-cosine", "Fig. 8 - cos(gt, gt-1) of successive stochastic gradients", "cosine", data,
                RunSeries::sgCosPrev, false));
        figures.add(Figures.band("fig8-norm", "Fig. 8 - norm ||gt|| of the stochastic gradient", "||gt||", data,
                RunSeries::sgNorm, true));
        figures.add(Figures.lossChangeDistributions(data));
        figures.add(Figures.lossChangeVariance(data));
        figures.addAll(Figures.spectra(data));
        figures.add(Figures.fullSpectra(data));
        figures.addAll(Figures.generalization(data));

        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sgdscope report: ")
                .append(escape(data.experimentId)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em auto;max-width:960px;color:#222}")
                .append("h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}figure{margin:1.5em 0}")
                .append("figcaption{font-size:.9em;color:#555}table{border-collapse:collapse;font-size:.9em}")
                .append("td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}")
                .append(".missing{background:#f6f6f6;border-left:4px solid #bbb;padding:.6em 1em;color:#555}")
                .append("svg{max-width:100%;height:auto}\n</style>\n</head>\n<body>\n");
        html.append("<h1>sgdscope report: experiment ").append(escape(data.experimentId)).append("</h1>\n");
        html.append("<p>Figures after <i>Hessian based analysis of SGD for Deep Nets: Dynamics and Generalization</i> "
                + "(Li, Gu, Zhou, Chen, Banerjee), drawn from the records on the topics.</p>\n");
        overview(data, html);
        int drawn = 0;
        List<String> missing = new ArrayList<>();
        for (Figures.Figure figure : figures) {
            html.append("<figure id=\"").append(figure.id()).append("\">\n");
            if (figure.svg().isPresent()) {
                drawn++;
                html.append(figure.svg().get()).append("\n<figcaption>").append(escape(figure.caption())).append("</figcaption>\n");
            } else {
                missing.add(figure.id());
                html.append("<div class=\"missing\"><b>").append(escape(figure.title())).append("</b>: not drawn, ")
                        .append(escape(figure.missing())).append(".</div>\n");
            }
            html.append("</figure>\n");
        }
        alerts(data, html);
        html.append("</body>\n</html>\n");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, html, StandardCharsets.UTF_8);
        return new Summary(drawn, missing);
    }

    private static void overview(ExperimentData data, StringBuilder html) {
        Map<RunStatus, Integer> statuses = new EnumMap<>(RunStatus.class);
        for (RunFinished finished : data.finishes.values()) {
            statuses.merge(finished.getStatus(), 1, Integer::sum);
        }
        html.append("<h2>Overview</h2>\n<table>\n");
        row(html, "runs with telemetry", Integer.toString(data.series.size()));
        row(html, "runs started / finished", data.starts.size() + " / " + data.finishes.size());
        row(html, "endings", statuses.isEmpty() ? "none yet" : statuses.toString());
        row(html, "iterations (longest run)", Integer.toString(data.iterations()));
        row(html, "spectrum snapshots", Integer.toString(data.spectra.size()));
        row(html, "alerts", Integer.toString(data.alerts.size()));
        if (data.unreadable > 0) {
            row(html, "unreadable records skipped", Long.toString(data.unreadable));
        }
        if (!data.starts.isEmpty()) {
            RunStarted first = data.starts.get(0);
            row(html, "dataset", first.getDataset().getName() + ", n = " + first.getDataset().getSamples() + ", d = "
                    + first.getDataset().getInputDimension() + ", k = " + first.getDataset().getClasses() + ", random labels "
                    + first.getDataset().getRandomLabelFraction() + (first.getDataset().getStandardized() ? ", standardised" : ""));
            row(html, "model", first.getModel().getLayers() + ", p = " + first.getModel().getParameterCount() + ", "
                    + first.getModel().getInitialization());
            row(html, "optimizer", first.getOptimizer().getName() + ", \u03b7 = " + first.getOptimizer().getLearningRate()
                    + ", m = " + first.getOptimizer().getBatchSize() + ", " + first.getOptimizer().getSampling());
            row(html, "precision / backend", first.getPrecision() + " / " + first.getBackend());
            row(html, "versions", new TreeMap<>(first.getVersions()).toString());
        }
        html.append("</table>\n");
    }

    private static void alerts(ExperimentData data, StringBuilder html) {
        html.append("<h2 id=\"alerts\">Alerts</h2>\n");
        if (data.alerts.isEmpty()) {
            html.append("<p>No alerts were raised for this experiment.</p>\n");
            return;
        }
        Map<String, Integer> counts = new TreeMap<>();
        data.alerts.forEach(a -> counts.merge(a.getCheck() + " (" + a.getSeverity() + ")", 1, Integer::sum));
        html.append("<table>\n<tr><th>check (severity)</th><th>alerts</th></tr>\n");
        counts.forEach((check, count) -> html.append("<tr><td>").append(escape(check)).append("</td><td>").append(count)
                .append("</td></tr>\n"));
        html.append("</table>\n");
        List<DeviationAlert> latest = new ArrayList<>(data.alerts);
        latest.sort(Comparator.comparingLong(DeviationAlert::getRaisedAtMillis).reversed()
                .thenComparing(DeviationAlert::getRunId).thenComparingInt(DeviationAlert::getIteration));
        html.append("<p>The latest ").append(Math.min(ALERT_ROWS, latest.size())).append(" of ").append(latest.size())
                .append(":</p>\n<table>\n<tr><th>run</th><th>iteration</th><th>check</th><th>severity</th><th>observed</th>"
                        + "<th>bound</th><th>message</th></tr>\n");
        for (DeviationAlert alert : latest.subList(0, Math.min(ALERT_ROWS, latest.size()))) {
            html.append("<tr><td>").append(escape(alert.getRunId())).append("</td><td>").append(alert.getIteration())
                    .append("</td><td>").append(alert.getCheck()).append("</td><td>").append(alert.getSeverity())
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.4g", alert.getObserved()))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.4g", alert.getBound()))
                    .append("</td><td>").append(escape(alert.getMessage())).append("</td></tr>\n");
        }
        html.append("</table>\n");
    }

    private static void row(StringBuilder html, String name, String value) {
        html.append("<tr><th>").append(escape(name)).append("</th><td>").append(escape(value)).append("</td></tr>\n");
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
