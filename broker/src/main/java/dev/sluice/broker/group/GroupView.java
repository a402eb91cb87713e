package dev.sluice.broker.group;

import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.group.GroupRecord;
import dev.sluice.coordinator.group.GroupRecordCodec;
import dev.sluice.coordinator.group.PendingTxnOffsets;
import dev.sluice.partitionstore.CommittedOffset;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.NodeMetadata;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.PartitionMetadataStore;
import dev.sluice.raft.RaftNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Crc32C;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer groups of this node's {@code __consumer_offsets} replicas, materialized in the node's RocksDB:
 * every replica applies each committed group record as it applies the entry that carries it (the last
 * metadata record of every group in {@code group_metadata}, every committed offset in {@code
 * committed_offsets}, tombstones as deletions), and records per partition the offset up to which it did. A
 * node that becomes the coordinator of a partition {@linkplain #load loads} the partition's groups from here
 * instead of replaying the partition's log from its start.
 *
 * <h2>Transactional offsets</h2>
 *
 * A {@link GroupRecord.TxnOffsetCommit} (in a transactional batch of its producer) is pending until a COMMIT
 * or ABORT marker of the producer follows it. The view keeps each partition's {@link PendingTxnOffsets} in
 * memory and in RocksDB ({@link NodeMetadata#putPendingTxnOffsets}: per producer id, the value {@link
 * GroupRecordCodec#encodePending}, each entry with its record's log offset and whether a later record of its
 * partition superseded it). A COMMIT marker writes the producer's entries that are not superseded into {@code
 * committed_offsets}, an ABORT drops them; either way the producer's pending value is deleted last. A
 * coordinator loading the partition restores the pending entries, so a marker that arrives after the load
 * still commits them; the {@link MarkerListener} tells the partition's coordinator of each marker applied.
 *
 * <p>The view is caught up from the partition's log whenever it is behind: entries applied before the view
 * was listening (while the node started), after a snapshot install, or after a crash that lost RocksDB writes
 * not yet synced (RocksDB keeps a prefix of its writes, and replaying a record again is harmless, as every
 * record replaces the previous one with its key; a transactional record or marker applied again never undoes a
 * later record, as {@link PendingTxnOffsets} compares log offsets).
 *
 * <p>Thread-safe: each partition is caught up under its own lock, from its apply thread or a loading
 * coordinator.
 */
final class GroupView implements RaftNode.ApplyListener {
    private static final Logger LOG = LoggerFactory.getLogger(GroupView.class);
    private static final int READ_BYTES_MAX = 1 << 20;

    /** Told of each transaction marker the view applied; called under the partition's lock, so keep it short. */
    interface MarkerListener {
        void markerApplied(TopicPartition tp, long producerId, short producerEpoch, boolean commit, long offset);
    }

    /** What {@link #readRecords} finds in the log. */
    interface LogVisitor {
        /** A group record at {@code offset}. */
        void record(GroupRecord record, long offset);

        /** A COMMIT ({@code commit}) or ABORT marker of the producer at {@code offset}. */
        default void marker(long producerId, short producerEpoch, boolean commit, long offset) {}
    }

    /**
     * What {@link #load} replayed.
     *
     * @param records how many records (groups, offsets, pending transactional offsets)
     * @param viewOffset the log offset up to which the view had applied the partition: markers from there on
     *     are not reflected in the loaded state
     */
    record Loaded(long records, long viewOffset) {}

    private final NodeMetadata metadata;
    private final Map<Integer, Object> locks = new ConcurrentHashMap<>();
    /** Each partition's pending transactional offsets, read from RocksDB at first use; under the partition's lock. */
    private final Map<Integer, PendingTxnOffsets> pending = new ConcurrentHashMap<>();

    private volatile MarkerListener markerListener = (tp, producerId, producerEpoch, commit, offset) -> {};

    GroupView(NodeMetadata metadata) {
        this.metadata = metadata;
    }

    void setMarkerListener(MarkerListener listener) {
        this.markerListener = listener;
    }

    @Override
    public void applied(TopicPartition tp, PartitionLog log, long firstOffset, long nextOffset) {
        if (tp.topic().equals(GroupCoordinatorService.OFFSETS_TOPIC)) {
            catchUp(tp, log, nextOffset);
        }
    }

    /**
     * Applies the partition's group records below {@code endOffset} that the view does not hold yet; returns
     * how many. Records below the log start offset are gone from the log: the view keeps what it has of them.
     */
    long catchUp(TopicPartition tp, PartitionLog log, long endOffset) {
        synchronized (locks.computeIfAbsent(tp.partition(), p -> new Object())) {
            PartitionMetadataStore progress = log.metadata();
            long offset = progress.groupViewOffset();
            if (offset >= endOffset) {
                return 0;
            }
            if (offset < log.logStartOffset()) {
                if (offset > 0) {
                    LOG.warn(
                            "{}: the group records in [{}, {}) were deleted from the log before this node's view"
                                    + " of the groups held them; its groups may miss their changes",
                            tp,
                            offset,
                            log.logStartOffset());
                }
                offset = log.logStartOffset();
            }
            PendingTxnOffsets txnOffsets = pendingOf(tp);
            long applied = readRecords(tp, log, offset, endOffset, new LogVisitor() {
                @Override
                public void record(GroupRecord record, long recordOffset) {
                    apply(tp, txnOffsets, record, recordOffset);
                }

                @Override
                public void marker(long producerId, short producerEpoch, boolean commit, long markerOffset) {
                    applyMarker(tp, txnOffsets, producerId, producerEpoch, commit, markerOffset);
                }
            });
            progress.saveGroupViewOffset(endOffset);
            return applied;
        }
    }

    /**
     * Catches the view up to {@code endOffset}, then replays the partition's groups and offsets into {@code
     * state} (group metadata first, then offsets, as {@link GroupCoordinatorState#persistedRecords} orders
     * them, then the pending transactional offsets).
     */
    Loaded load(TopicPartition tp, PartitionLog log, long endOffset, int partitionCount, GroupCoordinatorState state) {
        synchronized (locks.computeIfAbsent(tp.partition(), p -> new Object())) {
            catchUp(tp, log, endOffset);
            long viewOffset = log.metadata().groupViewOffset();
            List<String> groupIds = new ArrayList<>();
            for (String groupId : metadata.groupIds()) {
                if (GroupCoordinatorState.partitionFor(groupId, partitionCount) == tp.partition()) {
                    groupIds.add(groupId);
                }
            }
            long replayed = 0;
            for (String groupId : groupIds) {
                byte[] group = metadata.groupMetadata(groupId);
                if (group != null) {
                    state.replay(GroupRecordCodec.decode(group));
                    replayed++;
                }
            }
            for (String groupId : groupIds) {
                for (Map.Entry<TopicPartition, CommittedOffset> entry :
                        metadata.committedOffsets(groupId).entrySet()) {
                    CommittedOffset offset = entry.getValue();
                    state.replay(new GroupRecord.OffsetCommit(
                            groupId,
                            entry.getKey().topic(),
                            entry.getKey().partition(),
                            offset.offset(),
                            offset.leaderEpoch(),
                            offset.metadata(),
                            offset.commitTimestampMs(),
                            offset.expireTimestampMs()));
                    replayed++;
                }
            }
            PendingTxnOffsets txnOffsets = pendingOf(tp);
            for (long producerId : txnOffsets.producerIds()) {
                for (PendingTxnOffsets.Entry entry : txnOffsets.entries(producerId)) {
                    state.replayPendingTxnOffset(entry);
                    replayed++;
                }
            }
            return new Loaded(replayed, viewOffset);
        }
    }

    /** The partition's pending transactional offsets; under the partition's lock. */
    private PendingTxnOffsets pendingOf(TopicPartition tp) {
        return pending.computeIfAbsent(tp.partition(), p -> {
            PendingTxnOffsets restored = new PendingTxnOffsets();
            for (Map.Entry<Long, byte[]> producer :
                    metadata.pendingTxnOffsets(tp).entrySet()) {
                for (PendingTxnOffsets.Entry entry : GroupRecordCodec.decodePending(producer.getValue())) {
                    if (entry.record().producerId() != producer.getKey()) {
                        throw new IllegalStateException(tp + ": the pending transactional offsets of producer "
                                + producer.getKey() + " hold an offset of producer "
                                + entry.record().producerId());
                    }
                    restored.restore(entry);
                }
            }
            return restored;
        });
    }

    private void apply(TopicPartition tp, PendingTxnOffsets txnOffsets, GroupRecord record, long offset) {
        if (record instanceof GroupRecord.OffsetCommit commit) {
            apply(record);
            save(tp, txnOffsets, txnOffsets.supersede(commit.groupId(), commit.topic(), commit.partition(), offset));
        } else if (record instanceof GroupRecord.OffsetTombstone tombstone) {
            apply(record);
            save(
                    tp,
                    txnOffsets,
                    txnOffsets.remove(tombstone.groupId(), tombstone.topic(), tombstone.partition(), offset));
        } else if (record instanceof GroupRecord.TxnOffsetCommit txn) {
            if (txnOffsets.add(txn, offset)) {
                save(tp, txnOffsets, List.of(txn.producerId()));
            }
        } else {
            apply(record);
        }
    }

    /**
     * A marker: the committed offsets first, then the other producers' superseded entries, the producer's own
     * pending value last (a crash in between leaves a prefix of these writes, and the marker is applied again).
     */
    private void applyMarker(
            TopicPartition tp,
            PendingTxnOffsets txnOffsets,
            long producerId,
            short producerEpoch,
            boolean commit,
            long offset) {
        PendingTxnOffsets.Completion completion = txnOffsets.complete(producerId, commit, offset);
        for (GroupRecord.OffsetCommit committed : completion.committed()) {
            apply(committed);
        }
        List<Long> changed = new ArrayList<>(completion.changedProducers());
        if (changed.remove((Long) producerId)) {
            changed.add(producerId);
        }
        save(tp, txnOffsets, changed);
        markerListener.markerApplied(tp, producerId, producerEpoch, commit, offset);
    }

    private void save(TopicPartition tp, PendingTxnOffsets txnOffsets, List<Long> producerIds) {
        for (long producerId : producerIds) {
            List<PendingTxnOffsets.Entry> entries = txnOffsets.entries(producerId);
            if (entries.isEmpty()) {
                metadata.deletePendingTxnOffsets(tp, producerId);
            } else {
                metadata.putPendingTxnOffsets(tp, producerId, GroupRecordCodec.encodePending(entries));
            }
        }
    }

    private void apply(GroupRecord record) {
        if (record instanceof GroupRecord.GroupMetadata group) {
            metadata.putGroupMetadata(group.groupId(), GroupRecordCodec.encode(group));
        } else if (record instanceof GroupRecord.GroupTombstone tombstone) {
            metadata.deleteGroupMetadata(tombstone.groupId());
        } else if (record instanceof GroupRecord.OffsetCommit commit) {
            metadata.putCommittedOffset(
                    commit.groupId(),
                    new TopicPartition(commit.topic(), commit.partition()),
                    new CommittedOffset(
                            commit.committedOffset(),
                            commit.leaderEpoch(),
                            commit.metadata(),
                            commit.commitTimestampMs(),
                            commit.expireTimestampMs()));
        } else if (record instanceof GroupRecord.OffsetTombstone tombstone) {
            metadata.deleteCommittedOffset(
                    tombstone.groupId(), new TopicPartition(tombstone.topic(), tombstone.partition()));
        }
    }

    /**
     * Hands every group record and transaction marker of {@code [fromOffset, endOffset)} to {@code visitor}, in
     * log order; returns how many records. A record without a value (a coordinator's load marker) carries no
     * group record; a transactional offset must sit in a transactional batch of its producer.
     */
    static long readRecords(TopicPartition tp, PartitionLog log, long fromOffset, long endOffset, LogVisitor visitor) {
        long offset = fromOffset;
        long count = 0;
        while (offset < endOffset) {
            LogReadResult read = log.readRetained(offset, READ_BYTES_MAX, endOffset);
            if (read.error() != Errors.NONE) {
                throw new IllegalStateException(tp + ": reading offset " + offset + " failed: " + read.errorMessage());
            }
            if (read.sizeInBytes() == 0) {
                throw new IllegalStateException(tp + ": no batch at offset " + offset + " below " + endOffset);
            }
            for (MutableRecordBatch batch : read.memoryRecords().batches()) {
                if (batch.lastOffset() < offset) {
                    continue;
                }
                if (batch.isControlBatch()) {
                    if (batch.baseOffset() >= offset && batch.baseOffset() < endOffset) {
                        visitMarker(batch, visitor);
                    }
                    offset = batch.nextOffset();
                    continue;
                }
                for (Record record : batch) {
                    if (record.offset() >= offset && record.offset() < endOffset && record.hasValue()) {
                        GroupRecord group = GroupRecordCodec.decode(Utils.toArray(record.value()));
                        checkBatch(tp, batch, record.offset(), group);
                        visitor.record(group, record.offset());
                        count++;
                    }
                }
                offset = batch.nextOffset();
            }
        }
        return count;
    }

    private static void visitMarker(RecordBatch batch, LogVisitor visitor) {
        java.util.Iterator<Record> records = batch.iterator();
        if (!records.hasNext()) {
            return;
        }
        ControlRecordType type = ControlRecordType.parse(records.next().key());
        if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
            visitor.marker(
                    batch.producerId(), batch.producerEpoch(), type == ControlRecordType.COMMIT, batch.baseOffset());
        }
    }

    /** A transactional offset only in a transactional batch of its producer, and no other record there. */
    private static void checkBatch(TopicPartition tp, RecordBatch batch, long offset, GroupRecord record) {
        boolean txnRecord = record instanceof GroupRecord.TxnOffsetCommit;
        boolean matches = txnRecord
                ? batch.isTransactional() && batch.producerId() == ((GroupRecord.TxnOffsetCommit) record).producerId()
                : !batch.isTransactional();
        if (!matches) {
            throw new IllegalStateException(tp + ": the " + record.getClass().getSimpleName() + " at offset " + offset
                    + " is in a batch of producer " + batch.producerId() + " (transactional: "
                    + batch.isTransactional() + "), expected "
                    + (txnRecord
                            ? "a transactional batch of producer " + ((GroupRecord.TxnOffsetCommit) record).producerId()
                            : "a non-transactional batch"));
        }
    }

    /** A coordinator's load marker: one record without key or value. */
    static ByteBuffer markerBatch() {
        return MemoryRecords.withRecords(
                        Compression.NONE, new SimpleRecord(System.currentTimeMillis(), (byte[]) null, (byte[]) null))
                .buffer();
    }

    /**
     * One step's records as one batch: key {@link GroupRecordCodec#key}, value {@link GroupRecordCodec#encode}.
     * Transactional offsets (a step holds either only those, of one producer and epoch, or none) make a
     * transactional batch of their producer without a sequence: a coordinator's write, which opens the
     * producer's transaction on the partition until its marker.
     */
    static ByteBuffer batchOf(List<GroupRecord> records) {
        long nowMs = System.currentTimeMillis();
        SimpleRecord[] simple = new SimpleRecord[records.size()];
        GroupRecord.TxnOffsetCommit txn = null;
        int txnRecords = 0;
        for (int i = 0; i < simple.length; i++) {
            GroupRecord record = records.get(i);
            if (record instanceof GroupRecord.TxnOffsetCommit t) {
                if (txn != null && (txn.producerId() != t.producerId() || txn.producerEpoch() != t.producerEpoch())) {
                    throw new IllegalArgumentException("one batch holds transactional offsets of producer "
                            + txn.producerId() + " epoch " + txn.producerEpoch() + " and of producer "
                            + t.producerId() + " epoch " + t.producerEpoch());
                }
                txn = t;
                txnRecords++;
            }
            simple[i] = new SimpleRecord(nowMs, GroupRecordCodec.key(record), GroupRecordCodec.encode(record));
        }
        if (txn == null) {
            return MemoryRecords.withRecords(Compression.NONE, simple).buffer();
        }
        if (txnRecords != simple.length) {
            throw new IllegalArgumentException("one batch holds " + txnRecords + " transactional offsets and "
                    + (simple.length - txnRecords) + " other group records");
        }
        ByteBuffer batch = MemoryRecords.withTransactionalRecords(
                        Compression.NONE, txn.producerId(), txn.producerEpoch(), 0, simple)
                .buffer();
        return withoutSequence(batch);
    }

    /** The batch header's base sequence (Kafka's record batch v2 layout) and what its CRC-32C covers from. */
    private static final int BASE_SEQUENCE_OFFSET = 53;

    private static final int ATTRIBUTES_OFFSET = 21;

    /**
     * The batch with {@link RecordBatch#NO_SEQUENCE} as its base sequence and its CRC computed again. Kafka's
     * builder refuses to write a producer's data batch without a sequence, but that is what marks a
     * coordinator's write for the partition's producer state (no sequence checks, never a duplicate), and
     * what a client may never send.
     */
    private static ByteBuffer withoutSequence(ByteBuffer batch) {
        int start = batch.position();
        batch.putInt(start + BASE_SEQUENCE_OFFSET, RecordBatch.NO_SEQUENCE);
        long crc = Crc32C.compute(batch, start + ATTRIBUTES_OFFSET, batch.remaining() - ATTRIBUTES_OFFSET);
        batch.putInt(start + DefaultRecordBatch.CRC_OFFSET, (int) crc);
        return batch;
    }
}
