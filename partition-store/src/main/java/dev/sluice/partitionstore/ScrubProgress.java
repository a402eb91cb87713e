package dev.sluice.partitionstore;

/**
 * What one step of {@link PartitionLog#scrub} did.
 *
 * @param checkedBytes bytes of closed segments checked in this step
 * @param corruption damage found in this step, or null
 * @param complete whether every closed segment has now been checked since the log was opened
 */
public record ScrubProgress(long checkedBytes, SegmentCorruption corruption, boolean complete) {}
