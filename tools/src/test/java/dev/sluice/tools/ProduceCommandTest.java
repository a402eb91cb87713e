package dev.sluice.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.tools.kafka.CommandRun;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ProduceCommandTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "--acks=2|--acks 2: expected one of all, -1, 1, 0",
                "--compression=brotli|--compression brotli: expected one of none, gzip, snappy, lz4, zstd",
                "--property=print.key=true|unknown --property print.key (known: key.separator, null.marker, parse.key)",
                "--property=parse.key=maybe|--property parse.key=maybe: expected true or false",
                "--key-separator=|the key separator must not be empty"
            })
    void shouldRejectABadOptionNamingTheAllowedValues(String option, String message) {
        CommandRun run = CommandRun.of("produce", "--topic", "t", option);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith(message);
    }

    @Test
    void shouldAcceptAcksAndCompressionInAnyCase() {
        String address = CommandRun.closedAddress();

        CommandRun run = CommandRun.of(
                "produce",
                "--topic",
                "t",
                "--acks",
                "ALL",
                "--compression",
                "ZSTD",
                "--timeout-ms",
                "500",
                "--bootstrap-server",
                address);

        assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    }

    @Test
    void shouldFailInBoundedTimeBeforeReadingInputWhenTheClusterIsUnreachable() {
        String address = CommandRun.closedAddress();

        CommandRun run = CommandRun.of(
                "produce",
                "--topic",
                "t",
                "--property",
                "parse.key=true",
                "--timeout-ms",
                "1000",
                "--bootstrap-server",
                address);

        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err().lines())
                .singleElement()
                .asString()
                .startsWith("sluice produce: cannot reach the cluster at " + address + " (");
        assertThat(run.elapsedMs()).isLessThan(10_000);
    }
}
