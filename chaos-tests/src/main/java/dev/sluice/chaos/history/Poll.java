package dev.sluice.chaos.history;

import java.util.List;

/**
 * One {@code poll} of a consumer and the records it returned, in the order returned.
 *
 * @param process the consumer instance (unique in the run)
 * @param mode how the consumer got its partitions
 * @param isolation its isolation level
 * @param session a counter the consumer increments whenever its position may legally jump: a new assignment,
 *     a seek, a reset after an out-of-range offset, a restart. Order checks apply within one session only.
 * @param invokeNs when {@code poll} was called (ns since the run started)
 * @param completeNs when it returned
 * @param records what it returned
 * @param txn the {@link Txn#id()} whose input this poll read (consume-transform-produce), or {@code -1}
 */
public record Poll(
        int process,
        ConsumerMode mode,
        Isolation isolation,
        int session,
        long invokeNs,
        long completeNs,
        List<Read> records,
        long txn) {
    public Poll {
        records = List.copyOf(records);
    }
}
