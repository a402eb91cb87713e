package dev.sluice.partitionstore;

import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * The outcome of appending one producer request's batches to a partition: the offsets they were given,
 * or the Kafka error a broker returns for them (in which case nothing was written).
 *
 * @param error {@link Errors#NONE} on success
 * @param errorMessage a human-readable reason when the append was rejected, else null
 * @param firstOffset offset of the first record appended, or -1
 * @param lastOffset offset of the last record appended, or -1
 * @param maxTimestamp largest record timestamp appended, or -1
 * @param offsetOfMaxTimestamp offset of the record carrying {@code maxTimestamp}, or -1
 * @param logAppendTimeMs the append time stamped on the batches under LogAppendTime, else -1
 * @param recordCount number of records appended
 * @param sizeInBytes number of bytes appended
 */
public record AppendResult(
        Errors error,
        String errorMessage,
        long firstOffset,
        long lastOffset,
        long maxTimestamp,
        long offsetOfMaxTimestamp,
        long logAppendTimeMs,
        int recordCount,
        int sizeInBytes) {

    /** A rejected append: nothing was written. */
    public static AppendResult rejected(Errors error, String message) {
        return new AppendResult(error, message, -1, -1, RecordBatch.NO_TIMESTAMP, -1, -1, 0, 0);
    }

    public boolean succeeded() {
        return error == Errors.NONE;
    }
}
