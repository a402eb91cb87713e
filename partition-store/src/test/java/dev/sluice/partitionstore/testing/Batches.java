package dev.sluice.partitionstore.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Record batches as producers build them, made with Kafka's own builder. */
public final class Batches {
    private Batches() {}

    /** A batch of {@code count} records "key-i" / "value-i" with timestamps from {@code firstTimestamp}. */
    public static ByteBuffer batch(CompressionType compression, int count, long firstTimestamp) {
        List<SimpleRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(new SimpleRecord(
                    firstTimestamp + i,
                    ("key-" + i).getBytes(StandardCharsets.UTF_8),
                    ("value-" + i).getBytes(StandardCharsets.UTF_8),
                    new Header[] {new RecordHeader("h", new byte[] {(byte) i})}));
        }
        return of(compression, records);
    }

    /** A batch holding exactly these records, with offsets from 0 as a producer sends them. */
    public static ByteBuffer of(CompressionType compression, List<SimpleRecord> records) {
        return MemoryRecords.withRecords(Compression.of(compression).build(), records.toArray(new SimpleRecord[0]))
                .buffer();
    }

    /** An idempotent producer's batch. */
    public static ByteBuffer idempotent(long producerId, short epoch, int baseSequence, int count, long timestamp) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(timestamp, null, ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, baseSequence, records)
                .buffer();
    }

    /** One batch of {@code recordBytes}-byte values filling roughly {@code batchBytes}. */
    public static ByteBuffer sized(int recordBytes, int batchBytes, long timestamp) {
        ByteBuffer buffer = ByteBuffer.allocate(batchBytes + 1024);
        MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, Compression.NONE, TimestampType.CREATE_TIME, 0);
        byte[] value = new byte[recordBytes];
        int written = 0;
        int i = 0;
        while (written + recordBytes + 16 <= batchBytes) {
            value[0] = (byte) i++;
            builder.append(timestamp, null, value);
            written += recordBytes + 16;
        }
        return builder.build().buffer();
    }

    /** The values of every record in {@code records}, as strings. */
    public static List<String> values(ByteBuffer records) {
        List<String> values = new ArrayList<>();
        for (RecordBatch batch :
                MemoryRecords.readableRecords(records.duplicate()).batches()) {
            for (Record record : batch) {
                byte[] bytes = new byte[record.valueSize()];
                record.value().get(bytes);
                values.add(new String(bytes, StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /** The offsets of every record in {@code records}. */
    public static List<Long> offsets(ByteBuffer records) {
        List<Long> offsets = new ArrayList<>();
        for (RecordBatch batch :
                MemoryRecords.readableRecords(records.duplicate()).batches()) {
            for (Record record : batch) {
                offsets.add(record.offset());
            }
        }
        return offsets;
    }

    /** A copy, so a test keeps the bytes it sent after the log assigned offsets in place. */
    public static ByteBuffer copy(ByteBuffer buffer) {
        ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
        copy.put(buffer.duplicate()).flip();
        return copy;
    }
}
