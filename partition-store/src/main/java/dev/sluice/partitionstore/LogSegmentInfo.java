package dev.sluice.partitionstore;

import java.nio.file.Path;

/**
 * A description of one segment, for tools and tests.
 *
 * @param baseOffset first offset the segment may hold (its file name)
 * @param nextOffset one past its last offset
 * @param sizeInBytes bytes of data
 * @param maxTimestamp its largest record timestamp, or -1
 * @param active whether it is the segment being appended to
 * @param path its file
 */
public record LogSegmentInfo(
        long baseOffset, long nextOffset, int sizeInBytes, long maxTimestamp, boolean active, Path path) {}
