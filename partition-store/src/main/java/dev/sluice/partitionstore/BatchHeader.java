package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Reads the fixed-size header of a Kafka record batch (magic 2) straight from a buffer, without
 * decoding records, and checks its CRC. Recovery, reads and the dump tool all walk segments with it.
 *
 * <pre>
 * offset  size  field
 *      0     8  baseOffset
 *      8     4  batchLength (bytes after this field)
 *     12     4  partitionLeaderEpoch
 *     16     1  magic (2)
 *     17     4  crc (CRC-32C of bytes 21 .. end of batch)
 *     21     2  attributes (bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control)
 *     23     4  lastOffsetDelta
 *     27     8  baseTimestamp
 *     35     8  maxTimestamp
 *     43     8  producerId
 *     51     2  producerEpoch
 *     53     4  baseSequence
 *     57     4  recordCount
 *     61     -  records
 * </pre>
 *
 * <p>All methods are pure functions of the buffer's bytes; none moves the buffer's position.
 */
public final class BatchHeader {
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    /** Size of the header; the smallest possible batch. */
    public static final int HEADER_BYTES = 61;
    /** Bytes before the batch-length field is counted: baseOffset and the length itself. */
    public static final int LOG_OVERHEAD = 12;

    private static final int COMPRESSION_MASK = 0x07;
    private static final int TIMESTAMP_TYPE_MASK = 0x08;
    private static final int TRANSACTIONAL_MASK = 0x10;
    private static final int CONTROL_MASK = 0x20;

    private BatchHeader() {}

    public static long baseOffset(ByteBuffer buffer, int position) {
        return order(buffer).getLong(position + BASE_OFFSET_OFFSET);
    }

    /** The whole size of the batch at {@code position}, header included. */
    public static int sizeInBytes(ByteBuffer buffer, int position) {
        return order(buffer).getInt(position + LENGTH_OFFSET) + LOG_OVERHEAD;
    }

    public static int partitionLeaderEpoch(ByteBuffer buffer, int position) {
        return order(buffer).getInt(position + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public static byte magic(ByteBuffer buffer, int position) {
        return buffer.get(position + MAGIC_OFFSET);
    }

    public static long storedCrc(ByteBuffer buffer, int position) {
        return Integer.toUnsignedLong(order(buffer).getInt(position + CRC_OFFSET));
    }

    public static short attributes(ByteBuffer buffer, int position) {
        return order(buffer).getShort(position + ATTRIBUTES_OFFSET);
    }

    public static int compressionId(ByteBuffer buffer, int position) {
        return attributes(buffer, position) & COMPRESSION_MASK;
    }

    public static boolean isLogAppendTime(ByteBuffer buffer, int position) {
        return (attributes(buffer, position) & TIMESTAMP_TYPE_MASK) != 0;
    }

    public static boolean isTransactional(ByteBuffer buffer, int position) {
        return (attributes(buffer, position) & TRANSACTIONAL_MASK) != 0;
    }

    public static boolean isControl(ByteBuffer buffer, int position) {
        return (attributes(buffer, position) & CONTROL_MASK) != 0;
    }

    public static int lastOffsetDelta(ByteBuffer buffer, int position) {
        return order(buffer).getInt(position + LAST_OFFSET_DELTA_OFFSET);
    }

    public static long lastOffset(ByteBuffer buffer, int position) {
        return baseOffset(buffer, position) + lastOffsetDelta(buffer, position);
    }

    public static long baseTimestamp(ByteBuffer buffer, int position) {
        return order(buffer).getLong(position + BASE_TIMESTAMP_OFFSET);
    }

    public static long maxTimestamp(ByteBuffer buffer, int position) {
        return order(buffer).getLong(position + MAX_TIMESTAMP_OFFSET);
    }

    public static long producerId(ByteBuffer buffer, int position) {
        return order(buffer).getLong(position + PRODUCER_ID_OFFSET);
    }

    public static short producerEpoch(ByteBuffer buffer, int position) {
        return order(buffer).getShort(position + PRODUCER_EPOCH_OFFSET);
    }

    public static int baseSequence(ByteBuffer buffer, int position) {
        return order(buffer).getInt(position + BASE_SEQUENCE_OFFSET);
    }

    public static int recordCount(ByteBuffer buffer, int position) {
        return order(buffer).getInt(position + RECORD_COUNT_OFFSET);
    }

    /** The CRC-32C the batch's bytes actually have (what {@link #storedCrc} should equal). */
    public static long computeCrc(ByteBuffer buffer, int position, int sizeInBytes) {
        ByteBuffer covered = buffer.duplicate();
        covered.limit(position + sizeInBytes).position(position + ATTRIBUTES_OFFSET);
        CRC32C crc = new CRC32C();
        crc.update(covered);
        return crc.getValue();
    }

    private static ByteBuffer order(ByteBuffer buffer) {
        if (buffer.order() != ByteOrder.BIG_ENDIAN) {
            throw new IllegalArgumentException("record batches are big-endian; got a " + buffer.order() + " buffer");
        }
        return buffer;
    }
}
