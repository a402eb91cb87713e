package dev.sluice.partitionstore.rocksdb;

import static dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata.ABORTED_TXN;
import static dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata.OFFSET_INDEX;
import static dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata.PARTITION_STATE;
import static dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata.PRODUCER_STATE;
import static dev.sluice.partitionstore.rocksdb.RocksDbNodeMetadata.TIME_INDEX;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.OffsetPosition;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.partitionstore.PartitionState;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.RaftEntryRange;
import dev.sluice.partitionstore.SegmentMetadata;
import dev.sluice.partitionstore.TimestampOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.rocksdb.RocksIterator;

/**
 * One partition's view of the node's RocksDB: every key is prefixed with the partition (see {@link
 * MetadataCodec} for the layouts).
 *
 * <p>Threading: written by the partition's writer thread only; reads from any thread.
 */
final class RocksDbPartitionMetadataStore implements PartitionMetadataStore {
    private final RocksDbNodeMetadata node;
    private final TopicPartition tp;
    private final byte[] prefix;
    private final byte[] prefixEnd;
    private final byte[] raftEntryPrefix;

    RocksDbPartitionMetadataStore(RocksDbNodeMetadata node, TopicPartition tp) {
        this.node = node;
        this.tp = tp;
        this.prefix = MetadataCodec.partitionPrefix(tp);
        this.prefixEnd = MetadataCodec.successor(prefix);
        this.raftEntryPrefix = MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_RAFT_ENTRY);
    }

    // ---- offset index ------------------------------------------------------------------------------------

    @Override
    public void putOffsetIndex(OffsetPosition entry) {
        node.put(OFFSET_INDEX, MetadataCodec.key(prefix, entry.offset()), MetadataCodec.encodeOffsetPosition(entry));
    }

    @Override
    public OffsetPosition floorOffsetIndex(long offset) {
        if (offset < 0) {
            return null; // offsets are never negative; as bytes they would sort after every real one
        }
        try (RocksIterator it = node.db().newIterator(node.handle(OFFSET_INDEX))) {
            it.seekForPrev(MetadataCodec.key(prefix, offset));
            if (!it.isValid() || !MetadataCodec.startsWith(it.key(), prefix)) {
                return null;
            }
            return MetadataCodec.decodeOffsetPosition(MetadataCodec.longAt(it.key(), prefix.length), it.value());
        }
    }

    @Override
    public void deleteOffsetIndexFrom(long offset) {
        node.deleteRange(OFFSET_INDEX, MetadataCodec.key(prefix, offset), prefixEnd);
    }

    @Override
    public void deleteOffsetIndexBefore(long offset) {
        node.deleteRange(OFFSET_INDEX, prefix, MetadataCodec.key(prefix, offset));
    }

    @Override
    public void forEachOffsetIndex(Consumer<OffsetPosition> action) {
        try (RocksIterator it = node.db().newIterator(node.handle(OFFSET_INDEX))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                action.accept(
                        MetadataCodec.decodeOffsetPosition(MetadataCodec.longAt(it.key(), prefix.length), it.value()));
            }
        }
    }

    // ---- time index ---------------------------------------------------------------------------------------

    @Override
    public void putTimeIndex(TimestampOffset entry) {
        node.put(
                TIME_INDEX,
                MetadataCodec.key(prefix, MetadataCodec.timestampKey(entry.timestamp())),
                MetadataCodec.encodeLong(entry.offset()));
    }

    @Override
    public TimestampOffset lastTimeIndexBefore(long timestamp) {
        try (RocksIterator it = node.db().newIterator(node.handle(TIME_INDEX))) {
            if (timestamp == Long.MIN_VALUE) {
                return null;
            }
            it.seekForPrev(MetadataCodec.key(prefix, MetadataCodec.timestampKey(timestamp - 1)));
            return timeEntry(it);
        }
    }

    @Override
    public TimestampOffset lastTimeIndex() {
        try (RocksIterator it = node.db().newIterator(node.handle(TIME_INDEX))) {
            it.seekForPrev(prefixEnd);
            return timeEntry(it);
        }
    }

    private TimestampOffset timeEntry(RocksIterator it) {
        if (!it.isValid() || !MetadataCodec.startsWith(it.key(), prefix)) {
            return null;
        }
        long timestamp = MetadataCodec.timestampKey(MetadataCodec.longAt(it.key(), prefix.length));
        return new TimestampOffset(timestamp, MetadataCodec.decodeLong(it.value(), "time index entry"));
    }

    @Override
    public void deleteTimeIndexAbove(long offset) {
        try (RocksIterator it = node.db().newIterator(node.handle(TIME_INDEX))) {
            for (it.seekForPrev(prefixEnd); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.prev()) {
                if (MetadataCodec.decodeLong(it.value(), "time index entry") <= offset) {
                    break;
                }
                node.delete(TIME_INDEX, it.key());
            }
        }
    }

    @Override
    public void deleteTimeIndexUpTo(long offset) {
        try (RocksIterator it = node.db().newIterator(node.handle(TIME_INDEX))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                if (MetadataCodec.decodeLong(it.value(), "time index entry") > offset) {
                    break;
                }
                node.delete(TIME_INDEX, it.key());
            }
        }
    }

    // ---- state, segments, epochs -------------------------------------------------------------------------

    @Override
    public PartitionState loadState() {
        byte[] value = node.get(PARTITION_STATE, MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_LOG));
        return value == null ? PartitionState.EMPTY : MetadataCodec.decodeState(value);
    }

    @Override
    public void saveState(PartitionState state) {
        node.put(
                PARTITION_STATE,
                MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_LOG),
                MetadataCodec.encodeState(state));
    }

    @Override
    public long groupViewOffset() {
        byte[] value = node.get(PARTITION_STATE, MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_GROUP_VIEW));
        return value == null ? 0 : MetadataCodec.decodeLong(value, "group view offset");
    }

    @Override
    public void saveGroupViewOffset(long nextOffset) {
        node.put(
                PARTITION_STATE,
                MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_GROUP_VIEW),
                MetadataCodec.encodeLong(nextOffset));
    }

    @Override
    public void putSegment(SegmentMetadata segment) {
        node.put(
                PARTITION_STATE,
                MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_SEGMENT, segment.baseOffset()),
                MetadataCodec.encodeSegment(segment));
    }

    @Override
    public SegmentMetadata segment(long baseOffset) {
        byte[] value =
                node.get(PARTITION_STATE, MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_SEGMENT, baseOffset));
        return value == null ? null : MetadataCodec.decodeSegment(baseOffset, value);
    }

    @Override
    public void deleteSegment(long baseOffset) {
        node.delete(PARTITION_STATE, MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_SEGMENT, baseOffset));
    }

    @Override
    public void putLeaderEpoch(int leaderEpoch, long startOffset) {
        node.put(
                PARTITION_STATE,
                MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_LEADER_EPOCH, leaderEpoch),
                MetadataCodec.encodeLong(startOffset));
    }

    @Override
    public NavigableMap<Integer, Long> leaderEpochs() {
        byte[] epochPrefix = MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_LEADER_EPOCH);
        NavigableMap<Integer, Long> result = new TreeMap<>();
        try (RocksIterator it = node.db().newIterator(node.handle(PARTITION_STATE))) {
            for (it.seek(epochPrefix); it.isValid() && MetadataCodec.startsWith(it.key(), epochPrefix); it.next()) {
                result.put(
                        MetadataCodec.intAt(it.key(), epochPrefix.length),
                        MetadataCodec.decodeLong(it.value(), "leader epoch"));
            }
        }
        return result;
    }

    @Override
    public void deleteLeaderEpochsFrom(long offset) {
        leaderEpochs().forEach((epoch, start) -> {
            if (start >= offset) {
                node.delete(
                        PARTITION_STATE, MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_LEADER_EPOCH, epoch));
            }
        });
    }

    // ---- Raft entries ----------------------------------------------------------------------------------------

    @Override
    public void putRaftEntry(RaftEntryRange range) {
        node.put(PARTITION_STATE, raftEntryKey(range.raftIndex()), MetadataCodec.encodeRaftEntry(range));
    }

    @Override
    public RaftEntryRange floorRaftEntry(long raftIndex) {
        if (raftIndex < 0) {
            return null;
        }
        try (RocksIterator it = node.db().newIterator(node.handle(PARTITION_STATE))) {
            it.seekForPrev(raftEntryKey(raftIndex));
            return raftEntry(it);
        }
    }

    @Override
    public RaftEntryRange ceilingRaftEntry(long raftIndex) {
        try (RocksIterator it = node.db().newIterator(node.handle(PARTITION_STATE))) {
            it.seek(raftEntryKey(Math.max(0, raftIndex)));
            return raftEntry(it);
        }
    }

    private RaftEntryRange raftEntry(RocksIterator it) {
        if (!it.isValid() || !MetadataCodec.startsWith(it.key(), raftEntryPrefix)) {
            return null;
        }
        return MetadataCodec.decodeRaftEntry(MetadataCodec.longAt(it.key(), raftEntryPrefix.length), it.value());
    }

    @Override
    public void deleteRaftEntriesFrom(long raftIndex) {
        node.deleteRange(
                PARTITION_STATE, raftEntryKey(Math.max(0, raftIndex)), MetadataCodec.successor(raftEntryPrefix));
    }

    @Override
    public void deleteRaftEntriesBefore(long raftIndex) {
        if (raftIndex > 0) {
            node.deleteRange(PARTITION_STATE, raftEntryPrefix, raftEntryKey(raftIndex));
        }
    }

    private byte[] raftEntryKey(long raftIndex) {
        return MetadataCodec.stateKey(prefix, MetadataCodec.STATE_KIND_RAFT_ENTRY, raftIndex);
    }

    // ---- producers and transactions ----------------------------------------------------------------------

    @Override
    public void putProducer(ProducerStateEntry entry) {
        node.put(PRODUCER_STATE, MetadataCodec.key(prefix, entry.producerId()), MetadataCodec.encodeProducer(entry));
    }

    @Override
    public ProducerStateEntry producer(long producerId) {
        byte[] value = node.get(PRODUCER_STATE, MetadataCodec.key(prefix, producerId));
        return value == null ? null : MetadataCodec.decodeProducer(producerId, value);
    }

    @Override
    public void deleteProducer(long producerId) {
        node.delete(PRODUCER_STATE, MetadataCodec.key(prefix, producerId));
    }

    @Override
    public List<ProducerStateEntry> producers() {
        List<ProducerStateEntry> result = new ArrayList<>();
        try (RocksIterator it = node.db().newIterator(node.handle(PRODUCER_STATE))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                result.add(MetadataCodec.decodeProducer(MetadataCodec.longAt(it.key(), prefix.length), it.value()));
            }
        }
        return result;
    }

    @Override
    public void putAbortedTxn(AbortedTxn txn) {
        node.put(
                ABORTED_TXN,
                MetadataCodec.key(prefix, txn.firstOffset(), txn.producerId()),
                MetadataCodec.encodeAbortedTxn(txn));
    }

    @Override
    public List<AbortedTxn> abortedTxns(long fromOffset, long toOffsetExclusive) {
        List<AbortedTxn> result = new ArrayList<>();
        for (AbortedTxn txn : allAbortedTxns()) {
            if (txn.firstOffset() >= toOffsetExclusive) {
                break;
            }
            if (txn.lastOffset() >= fromOffset) {
                result.add(txn);
            }
        }
        return result;
    }

    private List<AbortedTxn> allAbortedTxns() {
        List<AbortedTxn> result = new ArrayList<>();
        try (RocksIterator it = node.db().newIterator(node.handle(ABORTED_TXN))) {
            for (it.seek(prefix); it.isValid() && MetadataCodec.startsWith(it.key(), prefix); it.next()) {
                result.add(MetadataCodec.decodeAbortedTxn(
                        MetadataCodec.longAt(it.key(), prefix.length),
                        MetadataCodec.longAt(it.key(), prefix.length + 8),
                        it.value()));
            }
        }
        return result;
    }

    @Override
    public void deleteAbortedTxnsBefore(long offset) {
        for (AbortedTxn txn : allAbortedTxns()) {
            if (txn.lastOffset() < offset) {
                node.delete(ABORTED_TXN, MetadataCodec.key(prefix, txn.firstOffset(), txn.producerId()));
            }
        }
    }

    @Override
    public void deleteAbortedTxnsFrom(long offset) {
        // The bare (prefix, offset) key sorts before every (prefix, offset, producerId) key.
        node.deleteRange(ABORTED_TXN, MetadataCodec.key(prefix, offset), prefixEnd);
    }

    // ---- lifecycle -------------------------------------------------------------------------------------------

    @Override
    public void sync() {
        node.sync();
    }

    @Override
    public void deleteAll() {
        for (String columnFamily : List.of(OFFSET_INDEX, TIME_INDEX, PARTITION_STATE, PRODUCER_STATE, ABORTED_TXN)) {
            node.deleteRange(columnFamily, prefix, prefixEnd);
        }
    }

    @Override
    public String toString() {
        return "RocksDbPartitionMetadataStore[" + tp + "]";
    }
}
