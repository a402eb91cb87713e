package dev.sluice.chaos.check;

import dev.sluice.chaos.history.Isolation;
import java.util.List;

/**
 * Plain counts about a checked history, reported next to the anomalies. Immutable.
 *
 * @param sendsOk acknowledged sends
 * @param sendsFail sends refused for certain
 * @param sendsInfo sends with an unknown outcome
 * @param polls polls
 * @param pollRecords records returned by polls
 * @param finalReadRecords records returned by final reads
 * @param distinctValuesRead distinct values returned by any read
 * @param acknowledgedChecked acknowledged sends checked for loss (every acknowledged send)
 * @param txnsCommitted transactions that certainly committed
 * @param txnsAborted transactions that certainly did not commit
 * @param txnsUnknown transactions whose outcome is unknown
 * @param subscribeNonmonotonicPolls what {@link Anomaly#NONMONOTONIC_POLL} would count in {@code SUBSCRIBE}-mode
 *     sessions (informational: rebalances rewind)
 * @param subscribePollSkips what {@link Anomaly#POLL_SKIP} would count in {@code SUBSCRIBE}-mode sessions
 *     (informational)
 * @param finalReads one entry per final read, sorted by topic, partition and isolation level
 */
public record Statistics(
        long sendsOk,
        long sendsFail,
        long sendsInfo,
        long polls,
        long pollRecords,
        long finalReadRecords,
        long distinctValuesRead,
        long acknowledgedChecked,
        long txnsCommitted,
        long txnsAborted,
        long txnsUnknown,
        long subscribeNonmonotonicPolls,
        long subscribePollSkips,
        List<FinalReadStats> finalReads) {
    public Statistics {
        finalReads = List.copyOf(finalReads);
    }

    /**
     * What one final read saw.
     *
     * @param topic the topic
     * @param partition the partition
     * @param isolation the read's isolation level
     * @param logStartOffset the partition's log start offset
     * @param endOffset the offset the read reached
     * @param records how many records it returned
     */
    public record FinalReadStats(
            String topic, int partition, Isolation isolation, long logStartOffset, long endOffset, long records) {}
}
