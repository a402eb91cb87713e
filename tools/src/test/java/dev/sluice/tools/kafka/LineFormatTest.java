package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LineFormatTest {
    @Test
    void shouldSendTheWholeLineAsValueWithANullKeyByDefault() {
        LineFormat.KeyValue kv = LineFormat.of(Map.of(), null).parse("a\tb");

        assertThat(kv.key()).isNull();
        assertThat(text(kv.value())).isEqualTo("a\tb");
    }

    @Test
    void shouldSplitAtTheFirstSeparatorWhenParsingKeys() {
        LineFormat format = LineFormat.of(Map.of("parse.key", "true", "key.separator", "::"), null);

        LineFormat.KeyValue kv = format.parse("user-1::{\"a\"::1}");

        assertThat(text(kv.key())).isEqualTo("user-1");
        assertThat(text(kv.value())).isEqualTo("{\"a\"::1}");
        assertThat(text(LineFormat.of(Map.of("parse.key", "true"), null)
                        .parse("k\tv")
                        .key()))
                .isEqualTo("k");
    }

    @Test
    void shouldPreferTheKeySeparatorOptionOverTheProperty() {
        LineFormat format = LineFormat.of(Map.of("parse.key", "TRUE", "key.separator", "::"), ",");

        assertThat(format.keySeparator()).isEqualTo(",");
        assertThat(format.parseKey()).isTrue();
    }

    @Test
    void shouldRejectALineWithoutTheSeparator() {
        LineFormat format = LineFormat.of(Map.of("parse.key", "true"), null);

        assertThatThrownBy(() -> format.parse("no separator here")).hasMessageContaining("no key separator '\\t'");
    }

    @Test
    void shouldTurnTheNullMarkerIntoNullForTombstones() {
        LineFormat format =
                LineFormat.of(Map.of("parse.key", "true", "key.separator", ":", "null.marker", "<null>"), null);

        LineFormat.KeyValue tombstone = format.parse("k:<null>");

        assertThat(text(tombstone.key())).isEqualTo("k");
        assertThat(tombstone.value()).isNull();
    }

    @Test
    void shouldNameAnUnknownPropertyAndTheKnownOnes() {
        assertThatThrownBy(() -> LineFormat.of(Map.of("print.key", "true"), null))
                .hasMessage("unknown --property print.key (known: key.separator, null.marker, parse.key)");
        assertThatThrownBy(() -> LineFormat.of(Map.of("parse.key", "yes"), null))
                .hasMessageContaining("parse.key=yes: expected true or false");
        assertThatThrownBy(() -> LineFormat.of(Map.of(), "")).hasMessageContaining("must not be empty");
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
