package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TextTableTest {
    @Test
    void shouldAlignColumnsToTheWidestCellWithoutTrailingSpaces() {
        TextTable table = new TextTable("  ", "NODE", "HOST:PORT", "RACK")
                .add(1, "a:9092", null)
                .add(10, "bb:9092", "r1");

        assertThat(table.lines())
                .containsExactly(
                        "  NODE  HOST:PORT  RACK", //
                        "  1     a:9092     -",
                        "  10    bb:9092    r1");
        assertThat(table.size()).isEqualTo(2);
    }

    @Test
    void shouldRejectARowOfTheWrongWidth() {
        assertThatThrownBy(() -> new TextTable("", "A", "B").add("only one"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
