package io.sgdscope.cli;

import io.sgdscope.analysis.ExperimentExport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Writes an experiment's records to CSV files that pandas or R read without help. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write an experiment's records (runs, iterations, spectra, alerts) from the kept topics to CSV "
                + "files, one per record type, with a header row and one column per field.",
                "Nested records become columns named outer.inner; arrays and maps are JSON text in one cell; an empty "
                        + "cell is a quantity not computed; doubles read back to the same double (NaN, inf, -inf). "
                        + "Reads with a consumer of its own: no consumer group, nothing committed."})
final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--experiment", paramLabel = "ID", required = true, description = "The experiment to export.")
    String experimentId;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Folder for the CSV files (created if missing). Default: ./sgdscope-export-<experiment>.")
    Path output;

    @Mixin
    TopicSource source;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path folder = output != null ? output : Path.of("sgdscope-export-" + experimentId);
        long start = System.nanoTime();
        try (TopicSource.Lease lease = source.open()) {
            ExperimentExport.Result result;
            try {
                result = new ExperimentExport(lease.connection().clientConfig()).export(experimentId, folder, read -> {
                    err.printf(Locale.ROOT, "read %,d records (%.0f records/s)%n", read, read / ((System.nanoTime() - start) / 1e9));
                    err.flush();
                });
            } catch (ExperimentExport.ExperimentNotFoundException e) {
                throw new SgdscopeException(e.getMessage(), e);
            }
            for (Map.Entry<String, Long> file : result.rowsByFile().entrySet()) {
                out.printf(Locale.ROOT, "%s: %,d rows%n", folder.resolve(file.getKey()), file.getValue());
            }
            if (result.unreadable() > 0) {
                out.printf(Locale.ROOT, "Skipped %,d unreadable records (see the streams app's sgd.dlq for its copies).%n",
                        result.unreadable());
            }
            out.flush();
        }
        return 0;
    }
}
