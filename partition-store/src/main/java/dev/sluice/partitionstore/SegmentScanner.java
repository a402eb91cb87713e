package dev.sluice.partitionstore;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Walks the batches of a segment's bytes and judges each one without decoding its records: framing,
 * magic, CRC-32C and offset continuity. Recovery uses it to find the end of the valid data, reads use it
 * to check what they serve, and {@code sluice dump --verify} to report problems. Pure; thread-safe.
 */
public final class SegmentScanner {
    private SegmentScanner() {}

    /** What is wrong with the bytes at a position, if anything. */
    public enum Problem {
        /** A whole, CRC-valid, continuous batch. */
        NONE,
        /** Only zero bytes follow: the clean end of a preallocated or trimmed file. */
        END,
        /** A batch header or body runs past the end of the data. */
        TRUNCATED,
        /** The length field is smaller than a batch header. */
        INVALID_SIZE,
        /** The magic byte is not 2. */
        INVALID_MAGIC,
        /** The stored CRC-32C does not match the bytes. */
        CRC_MISMATCH,
        /** The batch's base offset does not follow the previous batch. */
        OFFSET_DISCONTINUITY
    }

    /**
     * The judgement of one position.
     *
     * @param position where the batch starts
     * @param sizeInBytes the batch's size as its header claims (0 when unreadable)
     * @param baseOffset its base offset (-1 when unreadable)
     * @param lastOffset its last offset (-1 when unreadable)
     * @param problem what is wrong, or {@link Problem#NONE}
     * @param expectedCrc the CRC stored in the batch (for CRC mismatches)
     * @param actualCrc the CRC its bytes have (for CRC mismatches)
     */
    public record Step(
            int position,
            int sizeInBytes,
            long baseOffset,
            long lastOffset,
            Problem problem,
            long expectedCrc,
            long actualCrc) {

        public boolean ok() {
            return problem == Problem.NONE;
        }

        public int end() {
            return position + sizeInBytes;
        }

        /** A one-line description naming the position and, for CRC mismatches, both CRCs. */
        public String describe() {
            return switch (problem) {
                case NONE -> "valid batch at position " + position;
                case END -> "end of data at position " + position;
                case TRUNCATED ->
                    "truncated batch at position " + position + " (header claims " + sizeInBytes + " bytes)";
                case INVALID_SIZE -> "invalid batch length " + sizeInBytes + " at position " + position;
                case INVALID_MAGIC -> "invalid magic byte at position " + position;
                case CRC_MISMATCH ->
                    String.format(
                            "CRC mismatch in batch at position %d (offsets %d..%d): expected 0x%08x, actual 0x%08x",
                            position, baseOffset, lastOffset, expectedCrc, actualCrc);
                case OFFSET_DISCONTINUITY ->
                    "batch at position " + position + " starts at offset " + baseOffset
                            + ", which does not follow the previous batch";
            };
        }
    }

    /**
     * Judges the bytes of {@code data} at {@code position}, where valid data may extend up to {@code
     * limit}.
     *
     * @param expectedBaseOffset the offset the batch must start at, or -1 to skip the continuity check
     */
    public static Step check(ByteBuffer data, int position, int limit, long expectedBaseOffset) {
        int remaining = limit - position;
        if (remaining <= 0) {
            return new Step(position, 0, -1, -1, Problem.END, 0, 0);
        }
        if (remaining < BatchHeader.LOG_OVERHEAD) {
            Problem problem = allZero(data, position, limit) ? Problem.END : Problem.TRUNCATED;
            return new Step(position, 0, -1, -1, problem, 0, 0);
        }
        long baseOffset = BatchHeader.baseOffset(data, position);
        int size = BatchHeader.sizeInBytes(data, position);
        if (baseOffset == 0 && size == BatchHeader.LOG_OVERHEAD && allZero(data, position, limit)) {
            return new Step(position, 0, -1, -1, Problem.END, 0, 0);
        }
        if (size < BatchHeader.HEADER_BYTES) {
            return new Step(position, size, baseOffset, -1, Problem.INVALID_SIZE, 0, 0);
        }
        if (size > remaining) {
            return new Step(position, size, baseOffset, -1, Problem.TRUNCATED, 0, 0);
        }
        if (BatchHeader.magic(data, position) != RecordBatch.MAGIC_VALUE_V2) {
            return new Step(position, size, baseOffset, -1, Problem.INVALID_MAGIC, 0, 0);
        }
        long lastOffset = BatchHeader.lastOffset(data, position);
        long stored = BatchHeader.storedCrc(data, position);
        long actual = BatchHeader.computeCrc(data, position, size);
        if (stored != actual) {
            return new Step(position, size, baseOffset, lastOffset, Problem.CRC_MISMATCH, stored, actual);
        }
        if ((expectedBaseOffset >= 0 && baseOffset != expectedBaseOffset) || lastOffset < baseOffset) {
            return new Step(position, size, baseOffset, lastOffset, Problem.OFFSET_DISCONTINUITY, 0, 0);
        }
        return new Step(position, size, baseOffset, lastOffset, Problem.NONE, stored, actual);
    }

    /** Whether every byte of {@code data} in {@code [from, to)} is zero. */
    public static boolean allZero(ByteBuffer data, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            if (data.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (data.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
