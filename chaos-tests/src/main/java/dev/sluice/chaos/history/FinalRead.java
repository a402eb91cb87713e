package dev.sluice.chaos.history;

import java.util.List;

/**
 * What the final phase read from one partition, after every fault was healed: every record from the log start
 * to the log end, in offset order, with one isolation level.
 *
 * @param topic the topic
 * @param partition the partition
 * @param isolation the isolation level of the read
 * @param logStartOffset the partition's log start offset when read
 * @param endOffset the offset the read reached (the log end offset, or the last stable offset under
 *     read_committed)
 * @param records every record read, in offset order
 */
public record FinalRead(
        String topic, int partition, Isolation isolation, long logStartOffset, long endOffset, List<Read> records) {
    public FinalRead {
        records = List.copyOf(records);
    }
}
