package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.tools.kafka.CommandRun;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code sluice groups}: the options are checked before connecting, and errors name the option. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class GroupsCommandOptionsTest {
    @Test
    void shouldListTheGroupsCommandInTheToolsHelp() {
        assertThat(CommandRun.of("--help").out()).contains("groups");
        assertThat(CommandRun.of("groups", "--help").out()).contains("list", "describe", "delete", "reset-offsets");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "--all-topics|no reset scenario: give exactly one of --to-earliest, --to-latest, --to-offset,"
                        + " --to-datetime, --by-duration, --shift-by",
                "--all-topics --to-earliest --to-latest|--to-earliest and --to-latest cannot be used together",
                "--all-topics --to-offset -1|--to-offset must be at least 0, was -1",
                "--all-topics --to-datetime yesterday|--to-datetime 'yesterday' is not an ISO-8601 date-time",
                "--all-topics --by-duration 15m|--by-duration '15m' is not an ISO-8601 duration",
                "--to-earliest|give the partitions to reset: --topic TOPIC[:P,P...] or --all-topics",
                "--to-earliest --all-topics --topic t|--topic and --all-topics cannot be used together",
                "--to-earliest --topic t:x|--topic 't:x': 'x' is not a partition number",
            })
    void shouldRejectABadResetBeforeConnecting(String arguments, String message) {
        CommandRun run = run("groups reset-offsets --group g " + arguments);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith(message).doesNotContain("cannot reach");
        assertThat(run.elapsedMs()).isLessThan(2_000);
    }

    @Test
    void shouldNameANonNumericOffset() {
        CommandRun run = run("groups reset-offsets --group g --all-topics --shift-by back");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Invalid value for option '--shift-by': 'back' is not a long");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "describe|give the groups: --group GROUP (repeatable) or --all-groups",
                "describe --group g --all-groups|--group and --all-groups cannot be used together",
                "describe --group g --members --state|--members and --state cannot be used together",
                "describe --group g --verbose|--verbose only applies to --members",
                "delete|give the groups: --group GROUP (repeatable) or --all-groups",
            })
    void shouldRejectABadGroupChoice(String example) {
        String[] parts = example.split("\\|");
        CommandRun run = run("groups " + parts[0]);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith(parts[1]);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "list",
                "describe --group g",
                "describe --all-groups --state",
                "delete --group g",
                "reset-offsets --group g --all-topics --to-earliest --dry-run"
            })
    void shouldFailInBoundedTimeWhenTheClusterIsUnreachable(String arguments) {
        String address = CommandRun.closedAddress();
        CommandRun run = run("groups " + arguments + " --timeout-ms 1000 --bootstrap-server " + address);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice groups: cannot reach the cluster at " + address + " (no answer within 1000 ms");
        assertThat(run.out()).isEmpty();
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }

    private static CommandRun run(String arguments) {
        String withServer = arguments.contains("--bootstrap-server")
                ? arguments
                : arguments + " --bootstrap-server " + CommandRun.closedAddress();
        return CommandRun.of(withServer.split(" "));
    }
}
