package io.sgdscope.cli;

import io.sgdscope.schemas.serde.AvroLimits;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code sgdscope} command. Exit codes: 0 success, 1 runtime failure (e.g. Kafka unreachable),
 * 2 bad arguments, 130 interrupted (Ctrl-C). Errors are one line on stderr; --verbose adds the stack
 * trace and library logging.
 */
@Command(name = "sgdscope",
        mixinStandardHelpOptions = true,
        versionProvider = Sgdscope.Version.class,
        subcommands = {DemoCommand.class, TrainCommand.class, StreamsCommand.class, ReplayCommand.class, ExportCommand.class,
                ReportCommand.class},
        description = {"Watch stochastic gradient descent from the inside, live: SGD telemetry (loss, gradients, "
                + "curvature) through Kafka to cross-run quantiles in Prometheus."},
        footer = {"", "Exit codes: 0 success, 1 runtime failure, 2 bad arguments, 130 interrupted."})
public final class Sgdscope implements Runnable {

    public static final int EXIT_RUNTIME_FAILURE = 1;
    public static final int EXIT_BAD_ARGUMENTS = 2;
    public static final int EXIT_INTERRUPTED = 130;

    @Spec
    CommandSpec spec;

    private static volatile boolean verbose;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show stack traces on errors and the libraries' logs (Kafka, ND4J).")
    void setVerbose(boolean value) {
        verbose = value;
        if (value) {
            Logging.verbose();
        }
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: demo, train, streams, replay, export or report");
    }

    public static void main(String[] args) {
        AvroLimits.install(); // before anything decodes Avro: Avro reads its limits once
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (tests call this in-process). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Sgdscope());
        commandLine.setParameterExceptionHandler(Sgdscope::badArguments);
        commandLine.setExecutionExceptionHandler((e, cl, parseResult) -> failure(e, cl));
        return commandLine;
    }

    private static int badArguments(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        err.println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage() + " (see '"
                + cl.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return EXIT_BAD_ARGUMENTS;
    }

    private static int failure(Exception e, CommandLine cl) {
        PrintWriter err = cl.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        if (e instanceof IllegalArgumentException) {
            // Settings records validate themselves; an invalid combination is a bad argument.
            err.println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage() + " (see '"
                    + cl.getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return EXIT_BAD_ARGUMENTS;
        }
        String message = e instanceof SgdscopeException ? e.getMessage() : e.toString().lines().findFirst().orElse("");
        err.println("sgdscope: error: " + message + (verbose ? "" : " (--verbose shows details)"));
        err.flush();
        return EXIT_RUNTIME_FAILURE;
    }

    static boolean isVerbose() {
        return verbose;
    }

    /** Version from the jar's manifest (set by the build), or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Sgdscope.class.getPackage().getImplementationVersion();
            return new String[] {"sgdscope " + (version == null ? "development" : version),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
