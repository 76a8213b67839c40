package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.trainer.Shard;
import io.sgdscope.trainer.TrainerSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code sgdscope train --shard i/N}: parsed into the settings, refused in one line (exit 2) before Kafka is contacted. */
class ShardOptionTest {

    private static TrainerSettings settings(String... args) {
        TrainCommand command = new TrainCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    /** Runs {@code sgdscope train} with these arguments against no broker (port 1) and returns exit code and stderr lines. */
    private static List<String> refused(String... args) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Sgdscope.commandLine();
        commandLine.setErr(new PrintWriter(err));
        List<String> command = new java.util.ArrayList<>(List.of("train", "--bootstrap-servers", "127.0.0.1:1",
                "--metrics-port", "-1"));
        command.addAll(List.of(args));
        assertEquals(Sgdscope.EXIT_BAD_ARGUMENTS, commandLine.execute(command.toArray(String[]::new)), err.toString());
        return err.toString().lines().toList();
    }

    @Test
    void aShardBecomesPartOfTheSettingsAndWithoutItEveryRunIsTrained() {
        TrainerSettings sharded = settings("--experiment", "big", "--runs", "10", "--shard", "2/3");
        assertEquals(new Shard(2, 3), sharded.shard());
        assertEquals(3, sharded.firstRun());
        assertEquals(6, sharded.endRun());
        assertEquals("2/3", sharded.asMap().get("shard"));
        assertTrue(TrainCommand.describe(sharded).startsWith("10 runs (shard 2/3: runs 3..5) x 400 iterations"),
                TrainCommand.describe(sharded));

        TrainerSettings whole = settings("--experiment", "big", "--runs", "10");
        assertEquals(Shard.WHOLE, whole.shard());
        assertEquals(10, whole.shardRuns());
        assertEquals(null, whole.asMap().get("shard"));
    }

    @Test
    void aShardThatIsNotIOfNOrHasNoRunsIsABadArgumentOfOneLine() {
        assertEquals(List.of("sgdscope train: --shard: shard must be i/N with 1 <= i <= N, got 3/2 (see 'sgdscope train --help')"),
                refused("--shard", "3/2"));
        assertEquals(List.of("sgdscope train: --shard: shard must be i/N with 1 <= i <= N (e.g. 2/4), got 'first' "
                + "(see 'sgdscope train --help')"), refused("--shard", "first"));
        assertEquals(List.of("sgdscope train: --shard: shard 1/4: 4 shards of 3 runs would leave a shard without runs "
                + "(N must be at most the runs) (see 'sgdscope train --help')"), refused("--runs", "3", "--shard", "1/4"));
    }

    @Test
    void theHelpDocumentsTheSplit() {
        String usage = Sgdscope.commandLine().getSubcommands().get("train").getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertTrue(usage.contains("--shard=i/N"), usage);
        assertTrue(usage.contains("floor((i-1)R/N)"), usage);
    }
}
