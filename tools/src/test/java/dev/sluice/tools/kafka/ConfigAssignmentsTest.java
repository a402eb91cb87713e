package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigAssignmentsTest {
    @Test
    void shouldSplitAtTheFirstEqualsSignKeepingCommasInValues() {
        assertThat(ConfigAssignments.parse(List.of("cleanup.policy=compact,delete", "x=a=b", "empty=")))
                .containsExactly(
                        java.util.Map.entry("cleanup.policy", "compact,delete"),
                        java.util.Map.entry("x", "a=b"),
                        java.util.Map.entry("empty", ""));
        assertThat(ConfigAssignments.parse(null)).isEmpty();
    }

    @Test
    void shouldRejectAnAssignmentWithoutEquals() {
        assertThatThrownBy(() -> ConfigAssignments.parse(List.of("retention.ms")))
                .hasMessageContaining("'retention.ms' is not KEY=VALUE");
    }

    @Test
    void shouldRejectAnEmptyKeyAndAKeyGivenTwice() {
        assertThatThrownBy(() -> ConfigAssignments.parse(List.of("=1"))).hasMessageContaining("empty key");
        assertThatThrownBy(() -> ConfigAssignments.parse(List.of("a=1", "a=2")))
                .hasMessageContaining("a is given twice");
    }
}
