package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * What a read returns: whole record batches as a read-only, zero-copy view of the segment file, or an
 * error.
 *
 * @param error {@link Errors#NONE}, {@link Errors#OFFSET_OUT_OF_RANGE}, or {@link
 *     Errors#KAFKA_STORAGE_ERROR} when the stored bytes fail their CRC
 * @param errorMessage why the read failed, else null
 * @param records the batches (empty when there is nothing to read at the offset yet)
 * @param logStartOffset the partition's log start offset when read
 * @param logEndOffset the partition's log end offset when read
 */
public record LogReadResult(
        Errors error, String errorMessage, ByteBuffer records, long logStartOffset, long logEndOffset) {

    static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

    /** The batches as Kafka's {@link MemoryRecords} (sharing the same bytes). */
    public MemoryRecords memoryRecords() {
        return MemoryRecords.readableRecords(records.duplicate());
    }

    public int sizeInBytes() {
        return records.remaining();
    }
}
