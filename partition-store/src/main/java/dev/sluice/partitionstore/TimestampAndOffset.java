package dev.sluice.partitionstore;

/**
 * A record found by timestamp ({@code ListOffsets} semantics).
 *
 * @param timestamp the record's timestamp
 * @param offset its offset
 * @param leaderEpoch the partition leader epoch of its batch, or -1
 */
public record TimestampAndOffset(long timestamp, long offset, int leaderEpoch) {}
