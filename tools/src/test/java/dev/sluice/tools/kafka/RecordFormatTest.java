package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class RecordFormatTest {
    private static final ConsumerRecord<byte[], byte[]> RECORD =
            new ConsumerRecord<>("t", 2, 41, bytes("k"), bytes("v"));

    @Test
    void shouldPrintOnlyTheValueByDefault() {
        assertThat(new RecordFormat(false, false, false, "\t").format(RECORD)).isEqualTo("v");
    }

    @Test
    void shouldPrintPartitionOffsetAndKeyBeforeTheValue() {
        assertThat(new RecordFormat(true, true, true, " | ").format(RECORD))
                .isEqualTo("Partition:2 | Offset:41 | k | v");
        assertThat(new RecordFormat(true, false, false, "\t").format(RECORD)).isEqualTo("k\tv");
    }

    @Test
    void shouldPrintNullForAMissingKeyOrValue() {
        ConsumerRecord<byte[], byte[]> tombstone = new ConsumerRecord<>("t", 0, 0, null, null);

        assertThat(new RecordFormat(true, false, false, ":").format(tombstone)).isEqualTo("null:null");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
