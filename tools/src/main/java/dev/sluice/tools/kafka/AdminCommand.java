package dev.sluice.tools.kafka;

import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Option;

/**
 * A cluster command that works through Kafka's {@code Admin} client: opens it bounded by
 * {@code --timeout-ms}, runs {@link #execute(Admin, ClusterTarget)}, and closes it.
 */
public abstract class AdminCommand extends ClientCommand {
    @Option(
            names = "--timeout-ms",
            paramLabel = "MS",
            defaultValue = "" + DEFAULT_TIMEOUT_MS,
            description = "How long to wait for the cluster on each request (default: ${DEFAULT-VALUE}).")
    int timeoutMs;

    @Override
    protected final int timeoutMs() {
        return timeoutMs;
    }

    @Override
    protected final int execute() {
        validate();
        ClusterTarget target = target();
        Admin admin = AdminCalls.open(target, "sluice-" + toolName().replace("sluice ", ""));
        try {
            return execute(admin, target);
        } finally {
            AdminCalls.close(admin, target);
        }
    }

    /** Checks the options before connecting; throws {@code ParameterException} on a bad one. */
    protected void validate() {}

    /** The command's work, given an open {@code Admin}; returns the exit code. */
    protected abstract int execute(Admin admin, ClusterTarget target);
}
