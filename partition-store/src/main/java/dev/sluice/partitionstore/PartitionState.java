package dev.sluice.partitionstore;

/**
 * The durable state of one partition log, written at every {@link PartitionLog#flush()} and after
 * structural changes (roll, retention, truncation).
 *
 * @param logStartOffset first offset that may be read
 * @param recoveryPoint every batch below this offset was durable at the last flush; recovery re-checks
 *     only what lies after it
 * @param lastAppliedTerm Raft term of the last entry applied into the log at the last flush, or -1
 * @param lastAppliedIndex Raft index of the last entry applied into the log at the last flush, or -1
 */
public record PartitionState(long logStartOffset, long recoveryPoint, long lastAppliedTerm, long lastAppliedIndex) {
    public static final PartitionState EMPTY = new PartitionState(0, 0, -1, -1);
}
