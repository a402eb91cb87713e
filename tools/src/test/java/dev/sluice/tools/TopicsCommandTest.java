package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.tools.kafka.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 1, unit = TimeUnit.MINUTES)
class TopicsCommandTest {
    @TempDir
    Path dir;

    @Test
    void shouldListTheClusterCommandsInTheToolsHelp() {
        CommandRun run = CommandRun.of("--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("topics", "cluster", "produce", "consume");
    }

    @Test
    void shouldAskForASubcommand() {
        CommandRun run = CommandRun.of("topics");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required subcommand").contains("create", "describe", "alter");
    }

    @Test
    void shouldRequireATopicToCreate() {
        CommandRun run = CommandRun.of("topics", "create", "--partitions", "3");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required option: '--topic=TOPIC'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--partitions=0", "--replication-factor=-1", "--replication-factor=40000", "--config=x"})
    void shouldRejectABadCreateOptionBeforeConnecting(String option) {
        CommandRun run = CommandRun.of(
                "topics", "create", "--topic", "t", option, "--bootstrap-server", CommandRun.closedAddress());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).doesNotContain("cannot reach");
        assertThat(run.elapsedMs()).isLessThan(2_000);
    }

    @Test
    void shouldNameTheBadOption() {
        assertThat(CommandRun.of("topics", "create", "--topic", "t", "--partitions", "0")
                        .err())
                .startsWith("--partitions must be at least 1, was 0");
        assertThat(CommandRun.of("topics", "create", "--topic", "t", "--config", "retention.ms")
                        .err())
                .startsWith("--config 'retention.ms' is not KEY=VALUE");
        assertThat(CommandRun.of("topics", "create", "--topic", "t", "--partitions", "many")
                        .err())
                .contains("Invalid value for option '--partitions': 'many' is not an int");
    }

    @Test
    void shouldRefuseAnAlterThatChangesNothingOrContradictsItself() {
        CommandRun nothing = CommandRun.of("topics", "alter", "--topic", "t");
        CommandRun both = CommandRun.of(
                "topics", "alter", "--topic", "t", "--config", "retention.ms=1", "--delete-config", "retention.ms");

        assertThat(nothing.exitCode()).isEqualTo(2);
        assertThat(nothing.err()).startsWith("nothing to alter: give --partitions, --config or --delete-config");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err())
                .startsWith("config retention.ms is both set with --config and removed with --delete-config");
    }

    @Test
    void shouldRejectABootstrapServerWithoutPort() {
        CommandRun run = CommandRun.of("topics", "list", "--bootstrap-server", "localhost");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("sluice topics: invalid --bootstrap-server 'localhost': 'localhost' is not" + " HOST:PORT"
                        + System.lineSeparator());
    }

    @Test
    void shouldReportAMissingCommandConfigFile() {
        CommandRun run = CommandRun.of(
                "topics",
                "list",
                "--command-config",
                dir.resolve("nope.properties").toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .startsWith("sluice topics: cannot read --command-config ")
                .contains("no such file");
    }

    @Test
    void shouldReportAnInvalidClientSettingFromTheCommandConfig() throws IOException {
        Path config = dir.resolve("client.properties");
        Files.writeString(config, "request.timeout.ms=soon\n");

        CommandRun run = CommandRun.of(
                "topics",
                "list",
                "--command-config",
                config.toString(),
                "--bootstrap-server",
                CommandRun.closedAddress());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .startsWith("sluice topics: invalid client configuration: ")
                .contains("request.timeout.ms");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "list",
                "describe",
                "describe --topic orders --json",
                "create --topic orders --partitions 3",
                "delete --topic orders --if-exists",
                "alter --topic orders --partitions 6"
            })
    void shouldFailInBoundedTimeWhenTheClusterIsUnreachable(String arguments) {
        String address = CommandRun.closedAddress();
        String[] args = ("topics " + arguments + " --timeout-ms 1000 --bootstrap-server " + address).split(" ");

        CommandRun run = CommandRun.of(args);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice topics: cannot reach the cluster at " + address + " (no answer within 1000 ms");
        assertThat(run.out()).isEmpty();
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }

    @Test
    void shouldFailFastWhenTheHostDoesNotResolve() {
        CommandRun run = CommandRun.of(
                "topics", "list", "--timeout-ms", "1000", "--bootstrap-server", "no-such-host.invalid:9092");

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).startsWith("sluice topics: cannot reach the cluster at no-such-host.invalid:9092 (");
    }
}
