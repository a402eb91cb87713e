package dev.sluice.raft;

import org.apache.kafka.common.protocol.Errors;

/**
 * The answer to a {@code DeleteRecords} submitted to a partition group, as a Kafka broker answers it for
 * one partition: the new low watermark (the log start offset), or the error.
 *
 * @param error {@link Errors#NONE} on success; {@link Errors#OFFSET_OUT_OF_RANGE} when the offset was
 *     negative (other than -1, the high watermark) or past the high watermark when the entry was applied;
 *     {@link Errors#NOT_LEADER_OR_FOLLOWER} when this node does not lead the partition
 * @param errorMessage a human-readable reason for an error, else null
 * @param lowWatermark the partition's log start offset once the entry was applied, or -1 on error
 */
public record DeleteOutcome(Errors error, String errorMessage, long lowWatermark) {

    public static DeleteOutcome error(Errors error, String message) {
        return new DeleteOutcome(error, message, -1);
    }

    public boolean succeeded() {
        return error == Errors.NONE;
    }
}
