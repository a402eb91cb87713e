package dev.sluice.partitionstore;

/**
 * An aborted transaction, as Fetch reports it to read_committed consumers.
 *
 * @param producerId the producer whose transaction was aborted
 * @param firstOffset first offset the transaction wrote in this partition
 * @param lastOffset offset of the ABORT marker
 * @param lastStableOffset the partition's last stable offset once the marker was applied
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {}
