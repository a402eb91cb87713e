package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientSettingsTest {
    private static final ClusterTarget TARGET = new ClusterTarget("h1:9092,h2:9092", Map.of(), 15_000);

    @Test
    void shouldBoundEveryAdminRequestByTheTimeout() {
        Map<String, Object> settings = ClientSettings.admin(TARGET, "sluice-topics");

        assertThat(settings)
                .containsEntry("bootstrap.servers", "h1:9092,h2:9092")
                .containsEntry("client.id", "sluice-topics")
                .containsEntry("request.timeout.ms", "15000")
                .containsEntry("default.api.timeout.ms", "15000")
                .containsEntry("socket.connection.setup.timeout.ms", "10000")
                .containsEntry("socket.connection.setup.timeout.max.ms", "15000");
    }

    @Test
    void shouldShortenConnectionSetupWhenTheTimeoutIsShort() {
        Map<String, Object> settings = ClientSettings.admin(new ClusterTarget("h:1", Map.of(), 1_500), "c");

        assertThat(settings)
                .containsEntry("socket.connection.setup.timeout.ms", "1500")
                .containsEntry("socket.connection.setup.timeout.max.ms", "1500");
    }

    @Test
    void shouldLetTheCommandConfigOverrideDefaultsButNotTheCommandsFlags() {
        ClusterTarget target = new ClusterTarget(
                "h:1", Map.of("request.timeout.ms", "40000", "acks", "0", "security.protocol", "SSL"), 15_000);

        Map<String, Object> settings = ClientSettings.producer(target, "p", "all", "zstd");

        assertThat(settings)
                .containsEntry("request.timeout.ms", "40000")
                .containsEntry("security.protocol", "SSL")
                .containsEntry("acks", "all")
                .containsEntry("compression.type", "zstd")
                .containsEntry("max.block.ms", "15000");
    }

    @Test
    void shouldMakeTheDeliveryTimeoutAtLeastLingerPlusRequestTimeout() {
        ClusterTarget lingering = new ClusterTarget("h:1", Map.of("linger.ms", "100"), 15_000);

        assertThat(ClientSettings.producer(TARGET, "p", "1", "none")).containsEntry("delivery.timeout.ms", "15005");
        assertThat(ClientSettings.producer(lingering, "p", "1", "none")).containsEntry("delivery.timeout.ms", "15100");
        assertThat(ClientSettings.producer(
                        new ClusterTarget("h:1", Map.of("delivery.timeout.ms", "120000"), 15_000), "p", "1", "none"))
                .containsEntry("delivery.timeout.ms", "120000");
    }

    @Test
    void shouldRejectANonNumericLinger() {
        ClusterTarget target = new ClusterTarget("h:1", Map.of("linger.ms", "soon"), 15_000);

        assertThatThrownBy(() -> ClientSettings.producer(target, "p", "1", "none"))
                .isInstanceOf(ToolFailure.class)
                .hasMessageContaining("linger.ms=soon");
    }

    @Test
    void shouldNeverAutoCommitNorAutoCreateTopicsWhenConsuming() {
        ClusterTarget target =
                new ClusterTarget("h:1", Map.of("enable.auto.commit", "true", "group.id", "from-file"), 15_000);

        Map<String, Object> assigned = ClientSettings.consumer(target, "c", null, "earliest");
        Map<String, Object> grouped = ClientSettings.consumer(target, "c", "g", "latest");

        assertThat(assigned)
                .containsEntry("enable.auto.commit", "false")
                .containsEntry("allow.auto.create.topics", "false")
                .containsEntry("auto.offset.reset", "earliest")
                .doesNotContainKey("group.id");
        assertThat(grouped).containsEntry("group.id", "g").containsEntry("auto.offset.reset", "latest");
    }
}
