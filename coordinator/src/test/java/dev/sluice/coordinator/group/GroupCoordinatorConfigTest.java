package dev.sluice.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class GroupCoordinatorConfigTest {
    @Test
    void shouldHaveKafkasDefaults() {
        GroupCoordinatorConfig config = GroupCoordinatorConfig.defaults();

        assertThat(config.minSessionTimeoutMs()).isEqualTo(6_000);
        assertThat(config.maxSessionTimeoutMs()).isEqualTo(1_800_000);
        assertThat(config.initialRebalanceDelayMs()).isEqualTo(3_000);
        assertThat(config.maxSize()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.offsetsRetentionMs()).isEqualTo(7L * 24 * 60 * 60 * 1000);
        assertThat(config.offsetsRetentionCheckIntervalMs()).isEqualTo(600_000);
        assertThat(config.offsetMetadataMaxBytes()).isEqualTo(4096);
    }

    @Test
    void shouldRoundTripThroughItsStringForm() {
        GroupCoordinatorConfig config = GroupCoordinatorConfig.parse(Map.of("group.max.size", "5"));

        assertThat(GroupCoordinatorConfig.parse(config.toMap())).isEqualTo(config);
    }

    @Test
    void shouldNameAnUnknownOrInvalidKey() {
        assertThatThrownBy(() -> GroupCoordinatorConfig.parse(Map.of("group.max.sise", "5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("group.max.sise");
        assertThatThrownBy(() -> GroupCoordinatorConfig.parse(Map.of("group.max.size", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("group.max.size");
        assertThatThrownBy(() -> GroupCoordinatorConfig.parse(
                        Map.of("group.min.session.timeout.ms", "10", "group.max.session.timeout.ms", "5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("group.max.session.timeout.ms");
    }
}
