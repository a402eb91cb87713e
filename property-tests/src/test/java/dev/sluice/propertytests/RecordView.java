package dev.sluice.propertytests;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * One record as a consumer sees it, comparable with {@code equals}: offset, key, value (bytes as hex,
 * null kept apart from empty), timestamp and headers in order.
 */
record RecordView(long offset, String key, String value, long timestamp, List<String> headers) {

    static RecordView of(Record record) {
        return new RecordView(
                record.offset(),
                RecordArbitraries.hex(record.key()),
                RecordArbitraries.hex(record.value()),
                record.timestamp(),
                Arrays.stream(record.headers()).map(RecordView::header).toList());
    }

    private static String header(Header header) {
        return header.key() + "=" + RecordArbitraries.hex(header.value());
    }

    /** Every record of one batch, decoded by Kafka. */
    static List<RecordView> of(RecordBatch batch) {
        List<RecordView> views = new ArrayList<>();
        for (Record record : batch) {
            views.add(of(record));
        }
        return views;
    }

    /** Every record of every batch in {@code records}, decoded by Kafka's own {@link MemoryRecords}. */
    static List<RecordView> decode(ByteBuffer records) {
        List<RecordView> views = new ArrayList<>();
        for (RecordBatch batch :
                MemoryRecords.readableRecords(records.duplicate()).batches()) {
            views.addAll(of(batch));
        }
        return views;
    }

    /** The same record at another offset. */
    RecordView shiftedBy(long delta) {
        return new RecordView(offset + delta, key, value, timestamp, headers);
    }
}
