package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterOptionsTest {
    @TempDir
    Path dir;

    @Test
    void shouldAcceptHostPortListsTheWayKafkaParsesThem() {
        assertThat(ClusterOptions.checkBootstrapServers("127.0.0.1:9092")).isNull();
        assertThat(ClusterOptions.checkBootstrapServers("a:1, b:65535")).isNull();
        assertThat(ClusterOptions.checkBootstrapServers("[::1]:9092")).isNull();
    }

    @Test
    void shouldNameTheBadEntryOfABootstrapList() {
        assertThat(ClusterOptions.checkBootstrapServers("localhost")).contains("'localhost' is not HOST:PORT");
        assertThat(ClusterOptions.checkBootstrapServers("a:1,b:x")).contains("'x' in 'b:x' is not a port");
        assertThat(ClusterOptions.checkBootstrapServers("a:0")).contains("not a port");
        assertThat(ClusterOptions.checkBootstrapServers("a:70000")).contains("not a port");
        assertThat(ClusterOptions.checkBootstrapServers("a:1,,b:2")).contains("empty entry");
        assertThat(ClusterOptions.checkBootstrapServers(":9092")).contains("not HOST:PORT");
    }

    @Test
    void shouldTakeBootstrapServersFromTheCommandConfigWhenTheFlagIsAbsent() throws IOException {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "bootstrap.servers=k1:9093\nsecurity.protocol = SASL_SSL \n");
        ClusterOptions options = new ClusterOptions();
        options.commandConfig = file;

        ClusterTarget target = options.target(1_000);

        assertThat(target.bootstrapServers()).isEqualTo("k1:9093");
        assertThat(target.extraSettings()).containsEntry("security.protocol", "SASL_SSL");
        options.bootstrapServers = "k2:9094";
        assertThat(options.target(1_000).bootstrapServers()).isEqualTo("k2:9094");
    }

    @Test
    void shouldDefaultToTheLocalBroker() {
        assertThat(new ClusterOptions().target(1_000).bootstrapServers()).isEqualTo("127.0.0.1:9092");
    }

    @Test
    void shouldFailWithUsageCodeWhenTheCommandConfigIsMissing() {
        ClusterOptions options = new ClusterOptions();
        options.commandConfig = dir.resolve("absent.properties");

        assertThatThrownBy(() -> options.target(1_000))
                .isInstanceOfSatisfying(
                        ToolFailure.class, f -> assertThat(f.exitCode()).isEqualTo(ExitCodes.USAGE))
                .hasMessageContaining("cannot read --command-config")
                .hasMessageContaining("absent.properties: no such file");
    }
}
