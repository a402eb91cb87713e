package dev.sluice.partitionstore;

import java.util.List;
import java.util.NavigableMap;
import java.util.function.Consumer;

/**
 * The part of a node's metadata store that belongs to one partition: sparse indexes, durable log
 * state, segment metadata, leader-epoch history, producer state and aborted transactions. It is a
 * materialized view: everything in it can be rebuilt from the segments (and, later, the Raft log).
 *
 * <p>Writes are ordered but not durable until {@link #sync()}; after a crash a prefix of them survives.
 *
 * <p>Threading: written only by the partition's writer thread; read from any thread.
 */
public interface PartitionMetadataStore {

    // ---- sparse offset index -------------------------------------------------------------------------

    void putOffsetIndex(OffsetPosition entry);

    /** The entry with the largest offset at most {@code offset}, or null. */
    OffsetPosition floorOffsetIndex(long offset);

    /** Removes entries with an offset at or after {@code offset}. */
    void deleteOffsetIndexFrom(long offset);

    /** Removes entries with an offset before {@code offset}. */
    void deleteOffsetIndexBefore(long offset);

    /** Every entry, in offset order. */
    void forEachOffsetIndex(Consumer<OffsetPosition> action);

    // ---- sparse time index ---------------------------------------------------------------------------

    void putTimeIndex(TimestampOffset entry);

    /** The entry with the largest timestamp strictly below {@code timestamp}, or null. */
    TimestampOffset lastTimeIndexBefore(long timestamp);

    /** The newest entry, or null. */
    TimestampOffset lastTimeIndex();

    /** Removes entries whose offset is above {@code offset}. */
    void deleteTimeIndexAbove(long offset);

    /** Removes entries whose offset is at most {@code offset}. */
    void deleteTimeIndexUpTo(long offset);

    // ---- log state and segments ----------------------------------------------------------------------

    /** The state saved last, or {@link PartitionState#EMPTY} for a new partition. */
    PartitionState loadState();

    void saveState(PartitionState state);

    /**
     * For a {@code __consumer_offsets} partition: the offset below which its group records are applied to
     * the node's group view ({@link NodeMetadata#putGroupMetadata}, {@link NodeMetadata#putCommittedOffset});
     * 0 when nothing is.
     */
    long groupViewOffset();

    void saveGroupViewOffset(long nextOffset);

    void putSegment(SegmentMetadata segment);

    /** Metadata of the closed segment with this base offset, or null. */
    SegmentMetadata segment(long baseOffset);

    void deleteSegment(long baseOffset);

    // ---- leader epochs -------------------------------------------------------------------------------

    /** Records that {@code leaderEpoch} starts at {@code startOffset}. */
    void putLeaderEpoch(int leaderEpoch, long startOffset);

    /** Leader epoch → start offset, ascending. */
    NavigableMap<Integer, Long> leaderEpochs();

    /** Removes epochs whose start offset is at or after {@code offset}. */
    void deleteLeaderEpochsFrom(long offset);

    // ---- Raft entries ---------------------------------------------------------------------------------

    /** Records which offsets a Raft log entry appended (the Raft layer's index → offset map). */
    void putRaftEntry(RaftEntryRange range);

    /** The range of the entry with the greatest Raft index at or below {@code raftIndex}, or null. */
    RaftEntryRange floorRaftEntry(long raftIndex);

    /** The range of the entry with the smallest Raft index at or above {@code raftIndex}, or null. */
    RaftEntryRange ceilingRaftEntry(long raftIndex);

    /** Forgets the entries at and after {@code raftIndex} (the Raft log was truncated there). */
    void deleteRaftEntriesFrom(long raftIndex);

    /** Forgets the entries before {@code raftIndex} (the Raft log was purged up to there). */
    void deleteRaftEntriesBefore(long raftIndex);

    // ---- producers and transactions -------------------------------------------------------------------

    void putProducer(ProducerStateEntry entry);

    /** The producer's state, or null. */
    ProducerStateEntry producer(long producerId);

    void deleteProducer(long producerId);

    /** Every producer, ordered by producer id. */
    List<ProducerStateEntry> producers();

    void putAbortedTxn(AbortedTxn txn);

    /** Aborted transactions overlapping {@code [fromOffset, toOffsetExclusive)}, by first offset. */
    List<AbortedTxn> abortedTxns(long fromOffset, long toOffsetExclusive);

    /** Removes aborted transactions whose last offset is below {@code offset}. */
    void deleteAbortedTxnsBefore(long offset);

    /** Removes aborted transactions whose first offset is at or after {@code offset}. */
    void deleteAbortedTxnsFrom(long offset);

    // ---- lifecycle -----------------------------------------------------------------------------------

    /** Makes every write so far durable. */
    void sync();

    /** Removes everything stored for the partition (topic deletion). */
    void deleteAll();
}
