package dev.sluice.partitionstore;

/**
 * A consumer group's committed position in one partition.
 *
 * @param offset the next offset the group will consume
 * @param leaderEpoch leader epoch of the last consumed record, or -1
 * @param metadata the client's metadata string (kept as given, may be empty)
 * @param commitTimestampMs when the commit was applied
 * @param expireTimestampMs when it expires, or -1 for the group-level retention policy
 */
public record CommittedOffset(
        long offset, int leaderEpoch, String metadata, long commitTimestampMs, long expireTimestampMs) {}
