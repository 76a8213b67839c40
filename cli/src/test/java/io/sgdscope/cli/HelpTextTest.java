package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's --help renders cleanly: picocli formats descriptions with String.format, so a bare
 * '%' in an option's text (say "6 % faster") makes it print a warning and the raw text instead.
 */
class HelpTextTest {

    @Test
    void everyCommandsHelpRendersWithoutWarnings() {
        List<CommandLine> commands = new ArrayList<>();
        CommandLine root = Sgdscope.commandLine();
        commands.add(root);
        commands.addAll(root.getSubcommands().values());
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            for (CommandLine command : commands) {
                String usage = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
                String name = command.getCommandName();
                assertTrue(usage.contains("Usage:"), name + " has a usage line");
                assertFalse(usage.contains("%n"), name + ": a description was printed unformatted");
                assertFalse(usage.contains("${DEFAULT-VALUE}"), name + ": a default value was not filled in");
            }
        } finally {
            System.setErr(originalErr);
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8), "picocli warned while rendering the help");
    }
}
