package io.sgdscope.cli;

import io.sgdscope.analysis.report.ExperimentData;
import io.sgdscope.analysis.report.HtmlReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Builds one self-contained HTML file with the paper's figures from an experiment's kept records. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draw the paper's figures from an experiment's records into one self-contained HTML file (SVG "
                + "figures, no network needed to view it): Fig. 8 (quantile bands of the loss, cos(g_t, g_t-1) and ||g_t||), "
                + "Fig. 9-10 (distribution and variance of Delta_t(f)), Fig. 2 (top eigenvalues of H_f and M_t, principal-angle "
                + "cosines), Fig. 1 (full spectra, when published), Fig. 11 (generalization terms), and the alerts.",
                "Reads with a consumer of its own: no consumer group, nothing committed."})
final class ReportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--experiment", paramLabel = "ID", required = true, description = "The experiment to report on.")
    String experimentId;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "The HTML file to write. Default: ./sgdscope-report-<experiment>.html.")
    Path output;

    @Mixin
    TopicSource source;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path file = output != null ? output : Path.of("sgdscope-report-" + experimentId + ".html");
        long start = System.nanoTime();
        try (TopicSource.Lease lease = source.open()) {
            ExperimentData data;
            try {
                data = ExperimentData.read(lease.connection().clientConfig(), experimentId, read -> {
                    err.printf(Locale.ROOT, "read %,d records (%.0f records/s)%n", read, read / ((System.nanoTime() - start) / 1e9));
                    err.flush();
                });
            } catch (IllegalArgumentException e) {
                throw new SgdscopeException(e.getMessage(), e);
            }
            HtmlReport.Summary summary = HtmlReport.write(data, file);
            out.printf(Locale.ROOT, "Report: %s (%d figures drawn%s)%n", file.toAbsolutePath(), summary.drawn(),
                    summary.missing().isEmpty() ? "" : "; not drawn for lack of data: " + String.join(", ", summary.missing()));
            out.flush();
        }
        return 0;
    }
}
