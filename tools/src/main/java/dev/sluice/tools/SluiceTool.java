package dev.sluice.tools;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sluice} command line: one entry point, one subcommand per task. */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        versionProvider = SluiceTool.Version.class,
        description = "Sluice: a Kafka-compatible event-streaming platform where every partition is a Raft group.",
        subcommands = {
            LocalCommand.class,
            NodeCommand.class,
            DumpCommand.class,
            SampleCommand.class,
            ConfigDocsCommand.class,
            TopicsCommand.class,
            GroupsCommand.class,
            TransactionsCommand.class,
            ClusterCommand.class,
            ProduceCommand.class,
            ConsumeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class SluiceTool implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line, for tests to execute in-process: the subcommands above and every
     * {@link ToolExtension} on the classpath.
     */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new SluiceTool());
        for (ToolExtension extension : ServiceLoader.load(ToolExtension.class)) {
            commandLine.addSubcommand(extension.command());
        }
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("sluice " + cmd.getCommandName() + ": " + e.getMessage());
            return 2;
        });
        return commandLine;
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = SluiceTool.class.getPackage().getImplementationVersion();
            return new String[] {"sluice " + (version == null ? "development" : version)};
        }
    }
}
