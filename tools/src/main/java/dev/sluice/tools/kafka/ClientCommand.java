package dev.sluice.tools.kafka;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The shell shared by the cluster commands: the {@link ClusterOptions}, quiet Kafka logging, and one
 * place where a {@link ToolFailure} (or anything a Kafka client throws) becomes a one-line message
 * {@code sluice COMMAND: ...} on stderr and an exit code from {@link ExitCodes}. Subclasses implement
 * {@link #execute}.
 */
public abstract class ClientCommand implements Callable<Integer> {
    /** The default bound on each request to the cluster. */
    public static final int DEFAULT_TIMEOUT_MS = 15_000;

    @Spec
    protected CommandSpec spec;

    @Mixin
    protected ClusterOptions cluster;

    protected PrintWriter out;
    protected PrintWriter err;

    @Override
    public final Integer call() {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        KafkaLogging.quiet();
        try {
            return execute();
        } catch (ToolFailure failure) {
            err.println(toolName() + ": " + failure.getMessage());
            return failure.exitCode();
        } catch (KafkaException e) {
            ToolFailure failure = ClusterErrors.translate(
                    e,
                    new ClusterTarget(
                            cluster.bootstrapServersForMessages(), java.util.Map.of(), Math.max(1, timeoutMs())),
                    null);
            err.println(toolName() + ": " + failure.getMessage());
            return failure.exitCode();
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Runs the command; returns its exit code or throws a {@link ToolFailure}. */
    protected abstract int execute();

    /** The bound on each request to the cluster, in milliseconds. */
    protected abstract int timeoutMs();

    /** The cluster to talk to, from the shared options and {@link #timeoutMs()}. */
    protected ClusterTarget target() {
        if (timeoutMs() <= 0) {
            throw new ToolFailure(ExitCodes.USAGE, "the timeout must be a positive number of milliseconds");
        }
        return cluster.target(timeoutMs());
    }

    /** {@code sluice topics} for {@code sluice topics create}: the top-level subcommand's name. */
    protected String toolName() {
        CommandSpec command = spec;
        while (command.parent() != null && command.parent().parent() != null) {
            command = command.parent();
        }
        return command.parent() == null ? command.name() : command.parent().name() + " " + command.name();
    }
}
