package dev.sluice.partitionstore;

/**
 * A sparse offset-index entry: the batch whose {@code baseOffset} is {@code offset} starts at byte
 * {@code position} of the segment whose base offset is {@code segmentBaseOffset}.
 */
public record OffsetPosition(long offset, long segmentBaseOffset, int position) {}
