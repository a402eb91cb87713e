package dev.sluice.partitionstore;

/**
 * A sparse time-index entry: every record of the partition with an offset below {@code offset} has a
 * timestamp at most {@code timestamp}. Entries grow in both fields, so a search for the first record
 * with a timestamp at or after {@code t} may start at the offset of the last entry below {@code t}.
 */
public record TimestampOffset(long timestamp, long offset) {}
