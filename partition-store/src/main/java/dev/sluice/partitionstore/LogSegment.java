package dev.sluice.partitionstore;

import java.nio.file.Path;

/**
 * One segment of a partition log: a file named by its base offset holding whole record batches from
 * {@code baseOffset} up to (not including) {@code nextOffset}.
 *
 * <p>Threading: mutated only by the partition's writer thread; {@code nextOffset} is volatile so readers
 * on other threads see a consistent end.
 */
final class LogSegment {
    static final String SUFFIX = ".log";

    final long baseOffset;
    final SegmentFile file;
    volatile long nextOffset;
    long maxTimestamp = -1;
    long offsetOfMaxTimestamp = -1;
    long createdMs;
    int bytesSinceLastIndexEntry;

    LogSegment(long baseOffset, SegmentFile file, long nextOffset, long createdMs) {
        this.baseOffset = baseOffset;
        this.file = file;
        this.nextOffset = nextOffset;
        this.createdMs = createdMs;
    }

    int size() {
        return file.size();
    }

    boolean isEmpty() {
        return file.size() == 0;
    }

    void observeTimestamp(long timestamp, long offset) {
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
            offsetOfMaxTimestamp = offset;
        }
    }

    SegmentMetadata metadata() {
        return new SegmentMetadata(baseOffset, size(), nextOffset, maxTimestamp, offsetOfMaxTimestamp);
    }

    /** The file name of the segment starting at {@code baseOffset}: 20 digits, zero-padded. */
    static String fileName(long baseOffset) {
        return String.format("%020d%s", baseOffset, SUFFIX);
    }

    /** The base offset a segment file name stands for, or -1 when it is not a segment file name. */
    static long parseBaseOffset(Path path) {
        String name = path.getFileName().toString();
        if (name.length() != 20 + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return -1;
        }
        for (int i = 0; i < 20; i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return -1;
            }
        }
        return Long.parseLong(name.substring(0, 20));
    }

    @Override
    public String toString() {
        return "LogSegment[base=" + baseOffset + ", next=" + nextOffset + ", size=" + size() + "]";
    }
}
