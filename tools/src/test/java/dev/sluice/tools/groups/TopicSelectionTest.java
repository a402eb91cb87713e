package dev.sluice.tools.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicSelectionTest {
    @Test
    void shouldChooseTheWholeTopicWithoutPartitions() {
        TopicSelection selection = TopicSelection.parse("orders");

        assertThat(selection.topic()).isEqualTo("orders");
        assertThat(selection.allPartitions()).isTrue();
    }

    @Test
    void shouldChooseTheListedPartitionsSortedAndDistinct() {
        assertThat(TopicSelection.parse("orders:2,0,2")).isEqualTo(new TopicSelection("orders", List.of(0, 2)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders:", "orders:x", "orders:1,,2", "orders:-1", ":1"})
    void shouldRejectABadSelectionNamingTheOption(String text) {
        assertThatThrownBy(() -> TopicSelection.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--topic '" + text + "'");
    }
}
