package dev.sluice.chaos.history;

/**
 * One record a producer sent, and how the send ended.
 *
 * <p>Invariants: {@code offset >= 0} exactly when {@code outcome == OK}; {@code completeNs >= invokeNs}; times
 * are nanoseconds since the run started, on one monotonic clock shared by every client of the run.
 *
 * @param process the producer instance that sent it (unique in the run; a restarted producer gets a new one)
 * @param topic the topic written
 * @param partition the partition written (chosen by the workload, never by a partitioner)
 * @param key the record's key
 * @param value the workload value, unique in the whole run
 * @param invokeNs when {@code send} was called
 * @param completeNs when its callback ran
 * @param outcome acknowledged, refused for certain, or indeterminate
 * @param offset the acknowledged offset, or {@code -1}
 * @param error the exception's class and message when not acknowledged, else {@code null}
 * @param txn the {@link Txn#id()} of the transaction it was sent in, or {@code -1}
 */
public record Send(
        int process,
        String topic,
        int partition,
        String key,
        long value,
        long invokeNs,
        long completeNs,
        Outcome outcome,
        long offset,
        String error,
        long txn) {}
