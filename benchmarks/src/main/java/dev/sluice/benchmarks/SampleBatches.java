package dev.sluice.benchmarks;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;

/**
 * Record batches as a producer builds them (Kafka's own builder, magic 2, offsets from 0, CreateTime),
 * for the benchmarks. The partition-store test fixtures are not on this classpath.
 *
 * <p>Records have no key and no headers; each value is {@code recordBytes} bytes of JSON-like text (so
 * compressed batches compress about as much as typical event data does).
 */
final class SampleBatches {
    private SampleBatches() {}

    /** How many {@code recordBytes}-byte records fit in an uncompressed batch of at most {@code batchBytes}. */
    static int recordsPerBatch(int recordBytes, int batchBytes) {
        MemoryRecordsBuilder builder =
                MemoryRecords.builder(ByteBuffer.allocate(batchBytes), Compression.NONE, TimestampType.CREATE_TIME, 0);
        byte[] value = new byte[recordBytes];
        int count = 0;
        while (builder.hasRoomFor(0L, null, value, Record.EMPTY_HEADERS)) {
            builder.append(0L, null, value);
            count++;
        }
        return count;
    }

    /**
     * One batch of {@link #recordsPerBatch} records of {@code recordBytes} bytes each, compressed with
     * {@code compression} ("none", "lz4", "zstd", ...); returned with position 0 and limit at its end.
     */
    static ByteBuffer batch(String compression, int recordBytes, int batchBytes, long timestamp) {
        int count = recordsPerBatch(recordBytes, batchBytes);
        Compression codec = Compression.of(CompressionType.forName(compression)).build();
        MemoryRecordsBuilder builder =
                MemoryRecords.builder(ByteBuffer.allocate(batchBytes + 1024), codec, TimestampType.CREATE_TIME, 0);
        Random random = new Random(42);
        for (int i = 0; i < count; i++) {
            builder.append(timestamp + i, null, value(random, i, recordBytes));
        }
        ByteBuffer built = builder.build().buffer();
        ByteBuffer copy = ByteBuffer.allocate(built.remaining());
        copy.put(built).flip();
        return copy;
    }

    private static byte[] value(Random random, int sequence, int recordBytes) {
        StringBuilder text = new StringBuilder(recordBytes + 128);
        int event = 0;
        while (text.length() < recordBytes) {
            text.append("{\"seq\":")
                    .append(sequence * 1000 + event++)
                    .append(",\"user\":\"user-")
                    .append(random.nextInt(10_000))
                    .append("\",\"action\":\"")
                    .append(random.nextBoolean() ? "page_view" : "add_to_cart")
                    .append("\",\"path\":\"/p/")
                    .append(Long.toHexString(random.nextLong()))
                    .append("\",\"ms\":")
                    .append(random.nextInt(2_000))
                    .append("}\n");
        }
        byte[] bytes = new byte[recordBytes];
        System.arraycopy(text.toString().getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, recordBytes);
        return bytes;
    }
}
