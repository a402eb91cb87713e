package dev.sluice.broker.group;

import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.coordinator.group.GroupRecord;
import dev.sluice.coordinator.group.GroupRecordCodec;
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
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
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
 * <p>The view is caught up from the partition's log whenever it is behind: entries applied before the view
 * was listening (while the node started), after a snapshot install, or after a crash that lost RocksDB writes
 * not yet synced (RocksDB keeps a prefix of its writes, and replaying a record again is harmless, as every
 * record replaces the previous one with its key).
 *
 * <p>Thread-safe: each partition is caught up under its own lock, from its apply thread or a loading
 * coordinator.
 */
final class GroupView implements RaftNode.ApplyListener {
    private static final Logger LOG = LoggerFactory.getLogger(GroupView.class);
    private static final int READ_BYTES_MAX = 1 << 20;

    private final NodeMetadata metadata;
    private final Map<Integer, Object> locks = new ConcurrentHashMap<>();

    GroupView(NodeMetadata metadata) {
        this.metadata = metadata;
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
            long applied = readRecords(tp, log, offset, endOffset, this::apply);
            progress.saveGroupViewOffset(endOffset);
            return applied;
        }
    }

    /**
     * Catches the view up to {@code endOffset}, then replays the partition's groups and offsets into {@code
     * state} (group metadata first, then offsets, as {@link GroupCoordinatorState#persistedRecords} orders
     * them). Returns the number of records replayed.
     */
    long load(TopicPartition tp, PartitionLog log, long endOffset, int partitionCount, GroupCoordinatorState state) {
        synchronized (locks.computeIfAbsent(tp.partition(), p -> new Object())) {
            catchUp(tp, log, endOffset);
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
            return replayed;
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
     * Hands every group record of {@code [fromOffset, endOffset)} to {@code action}, in log order; returns
     * how many. A record without a value (a coordinator's load marker) carries no group record.
     */
    static long readRecords(
            TopicPartition tp, PartitionLog log, long fromOffset, long endOffset, Consumer<GroupRecord> action) {
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
                for (Record record : batch) {
                    if (record.offset() >= offset && record.offset() < endOffset && record.hasValue()) {
                        action.accept(GroupRecordCodec.decode(Utils.toArray(record.value())));
                        count++;
                    }
                }
                offset = batch.nextOffset();
            }
        }
        return count;
    }

    /** A coordinator's load marker: one record without key or value. */
    static ByteBuffer markerBatch() {
        return MemoryRecords.withRecords(
                        Compression.NONE, new SimpleRecord(System.currentTimeMillis(), (byte[]) null, (byte[]) null))
                .buffer();
    }

    /** One step's records as one batch: key {@link GroupRecordCodec#key}, value {@link GroupRecordCodec#encode}. */
    static ByteBuffer batchOf(List<GroupRecord> records) {
        long nowMs = System.currentTimeMillis();
        SimpleRecord[] simple = new SimpleRecord[records.size()];
        for (int i = 0; i < simple.length; i++) {
            GroupRecord record = records.get(i);
            simple[i] = new SimpleRecord(nowMs, GroupRecordCodec.key(record), GroupRecordCodec.encode(record));
        }
        return MemoryRecords.withRecords(Compression.NONE, simple).buffer();
    }
}
