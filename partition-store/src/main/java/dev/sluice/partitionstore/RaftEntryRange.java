package dev.sluice.partitionstore;

/**
 * The offsets one Raft log entry put into the partition: {@code [firstOffset, nextOffset)}, empty when
 * the entry's batch was rejected or answered as a duplicate (it then wrote nothing).
 *
 * @param raftIndex index of the Raft log entry
 * @param firstOffset offset of the first record the entry appended (or the log end offset when empty)
 * @param nextOffset the log end offset after the entry
 */
public record RaftEntryRange(long raftIndex, long firstOffset, long nextOffset) {
    public RaftEntryRange {
        if (raftIndex < 0 || firstOffset < 0 || nextOffset < firstOffset) {
            throw new IllegalArgumentException("invalid Raft entry range: index " + raftIndex + " offsets ["
                    + firstOffset + ", " + nextOffset + ")");
        }
    }

    public boolean isEmpty() {
        return firstOffset == nextOffset;
    }
}
