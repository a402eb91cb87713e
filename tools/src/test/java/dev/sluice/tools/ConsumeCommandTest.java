package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.tools.kafka.CommandRun;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ConsumeCommandTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "--group=g --partition=0|--group and --partition cannot be used together",
                "--offset=5|--offset needs --partition",
                "--partition=0 --offset=5 --from-beginning|--offset and --from-beginning cannot be used together",
                "--partition=0 --offset=soon|--offset soon: expected a number at least 0, earliest or latest",
                "--partition=0 --offset=-3|--offset -3: expected a number at least 0, earliest or latest",
                "--partition=-1|--partition must be at least 0, was -1",
                "--max-messages=0|--max-messages must be at least 1, was 0",
                "--timeout-ms=-5|--timeout-ms must not be negative, was -5"
            })
    void shouldRejectConflictingOrBadOptionsBeforeConnecting(String options, String message) {
        String[] args = ("consume --topic t " + options).split(" ");

        CommandRun run = CommandRun.of(args);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith(message);
        assertThat(run.elapsedMs()).isLessThan(2_000);
    }

    @Test
    void shouldFailInBoundedTimeWhenTheClusterIsUnreachable() {
        String address = CommandRun.closedAddress();

        CommandRun run = CommandRun.of(
                "consume",
                "--topic",
                "t",
                "--from-beginning",
                "--max-messages",
                "1",
                "--request-timeout-ms",
                "1000",
                "--bootstrap-server",
                address);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice consume: cannot reach the cluster at " + address + " (");
        assertThat(run.out()).isEmpty();
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }

    @Test
    void shouldFailInBoundedTimeInAGroupToo() {
        CommandRun run = CommandRun.of(
                "consume",
                "--topic",
                "t",
                "--group",
                "g",
                "--request-timeout-ms",
                "1000",
                "--bootstrap-server",
                CommandRun.closedAddress());

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }
}
