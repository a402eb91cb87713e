package dev.sluice.tools.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * How {@code sluice consume} prints a record on one line, as Kafka's console consumer does: optional
 * {@code Partition:P} and {@code Offset:O} fields, the key when asked, then the value, separated by the
 * key separator. Keys and values are decoded as UTF-8 (invalid bytes become U+FFFD); a null key or value
 * prints as {@code null}. Pure.
 */
public record RecordFormat(boolean printKey, boolean printPartition, boolean printOffset, String keySeparator) {
    public String format(ConsumerRecord<byte[], byte[]> record) {
        StringBuilder line = new StringBuilder();
        if (printPartition) {
            line.append("Partition:").append(record.partition()).append(keySeparator);
        }
        if (printOffset) {
            line.append("Offset:").append(record.offset()).append(keySeparator);
        }
        if (printKey) {
            line.append(text(record.key())).append(keySeparator);
        }
        return line.append(text(record.value())).toString();
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "null" : new String(bytes, StandardCharsets.UTF_8);
    }
}
