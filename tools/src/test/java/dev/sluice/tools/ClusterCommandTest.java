package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.tools.kafka.CommandRun;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ClusterCommandTest {
    @Test
    void shouldDescribeTheStatusSubcommandInItsHelp() {
        CommandRun run = CommandRun.of("cluster", "status", "--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--json", "--bootstrap-server", "--command-config", "--timeout-ms");
    }

    @Test
    void shouldFailInBoundedTimeWhenTheClusterIsUnreachable() {
        String address = CommandRun.closedAddress();

        CommandRun run =
                CommandRun.of("cluster", "status", "--json", "--timeout-ms", "1000", "--bootstrap-server", address);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).startsWith("sluice cluster: cannot reach the cluster at " + address + " (");
        assertThat(run.out()).isEmpty();
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }

    @Test
    void shouldRejectANonPositiveTimeout() {
        CommandRun run = CommandRun.of("cluster", "status", "--timeout-ms", "0");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("timeout must be a positive number");
    }
}
