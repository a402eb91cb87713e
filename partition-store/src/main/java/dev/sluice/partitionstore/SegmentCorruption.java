package dev.sluice.partitionstore;

import java.nio.file.Path;

/**
 * Damage found in a closed segment of a partition log: bytes that were checked when written and no longer
 * pass the checks (CRC-32C, framing, offset continuity, leader epoch).
 *
 * @param topicPartition the partition
 * @param segmentBaseOffset the segment's base offset (its file name)
 * @param file the segment file
 * @param position where the first damaged batch starts in the file
 * @param problem what is wrong there
 * @param description one line naming the position and, for a CRC mismatch, the expected and actual CRC
 */
public record SegmentCorruption(
        org.apache.kafka.common.TopicPartition topicPartition,
        long segmentBaseOffset,
        Path file,
        int position,
        SegmentScanner.Problem problem,
        String description) {

    @Override
    public String toString() {
        return file + ": " + description;
    }
}
