package dev.sluice.raft;

import org.apache.kafka.common.protocol.Errors;

/**
 * The answer to a write submitted to a partition group, as a Kafka broker answers a produce for one
 * partition: the offsets the records were given (the original ones for a retried duplicate), or the
 * error.
 *
 * @param error {@link Errors#NONE} on success
 * @param errorMessage a human-readable reason for an error, else null
 * @param firstOffset offset of the first record, or -1
 * @param lastOffset offset of the last record, or -1
 * @param logAppendTimeMs the append time under LogAppendTime, else -1
 * @param logStartOffset the partition's log start offset when the write was applied, or -1
 */
public record AppendOutcome(
        Errors error,
        String errorMessage,
        long firstOffset,
        long lastOffset,
        long logAppendTimeMs,
        long logStartOffset) {

    public static AppendOutcome error(Errors error, String message) {
        return new AppendOutcome(error, message, -1, -1, -1, -1);
    }

    public boolean succeeded() {
        return error == Errors.NONE;
    }
}
