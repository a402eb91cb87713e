package dev.sluice.partitionstore;

/**
 * What the log remembers of a closed segment so it need not rescan it on open.
 *
 * @param baseOffset the segment's base offset (its file name)
 * @param sizeInBytes bytes of data in the segment
 * @param nextOffset one past the last offset in the segment
 * @param maxTimestamp largest record timestamp in the segment, or -1 when it holds none
 * @param offsetOfMaxTimestamp offset of the first record carrying {@code maxTimestamp}, or -1
 */
public record SegmentMetadata(
        long baseOffset, int sizeInBytes, long nextOffset, long maxTimestamp, long offsetOfMaxTimestamp) {}
