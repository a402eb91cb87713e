package dev.sluice.coordinator.group;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What {@link GroupCoordinatorState} persists: the records of one {@code __consumer_offsets} partition.
 * They form a compacted log: a record replaces the previous record with the same {@link #key()}, and a
 * tombstone deletes it, so a store that keeps the latest record per key (RocksDB) and replays those in any
 * order rebuilds the same groups and offsets. Encoded by {@link GroupRecordCodec}.
 *
 * <p>The exception is {@link TxnOffsetCommit}: an offset committed inside a transaction, pending until a
 * COMMIT or ABORT marker of its producer follows it in the partition's log. Its effect depends on its
 * position in the log relative to the other offset records and to the marker, so it is replayed in log
 * order, or restored from a {@link PendingTxnOffsets} view that kept that order.
 */
public sealed interface GroupRecord
        permits GroupRecord.GroupMetadata,
                GroupRecord.GroupTombstone,
                GroupRecord.OffsetCommit,
                GroupRecord.OffsetTombstone,
                GroupRecord.TxnOffsetCommit {

    String groupId();

    /** True for a record that deletes its key. */
    boolean isTombstone();

    /** The compaction key: equal for a record and the records that replace or delete it. */
    default byte[] key() {
        return GroupRecordCodec.key(this);
    }

    /**
     * A group's membership as of a generation: written when the leader's assignment arrives, when a static
     * member is replaced without a rebalance, and when the group becomes empty.
     *
     * @param protocolType {@code "consumer"}, {@code "connect"}, …; null for a group that never had members
     * @param protocolName the protocol chosen for this generation ({@code "range"}, …); null when empty
     * @param leaderId the member that computed the assignment; null when empty
     * @param currentStateTimestampMs when the group entered its current state; -1 if unknown. The offsets of
     *     an empty group expire {@code offsets.retention.minutes} after it became empty.
     */
    record GroupMetadata(
            String groupId,
            int generationId,
            String protocolType,
            String protocolName,
            String leaderId,
            long currentStateTimestampMs,
            List<MemberMetadata> members)
            implements GroupRecord {
        public GroupMetadata {
            Objects.requireNonNull(groupId, "groupId");
            members = List.copyOf(members);
        }

        @Override
        public boolean isTombstone() {
            return false;
        }
    }

    /**
     * One member of a {@link GroupMetadata} record.
     *
     * @param groupInstanceId the static member's {@code group.instance.id}; null for a dynamic member
     * @param subscription the member's metadata for the group's chosen protocol
     * @param assignment what the leader assigned to the member in this generation
     */
    record MemberMetadata(
            String memberId,
            String groupInstanceId,
            String clientId,
            String clientHost,
            int rebalanceTimeoutMs,
            int sessionTimeoutMs,
            byte[] subscription,
            byte[] assignment) {
        public MemberMetadata {
            Objects.requireNonNull(memberId, "memberId");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(clientHost, "clientHost");
            subscription = subscription == null ? new byte[0] : subscription.clone();
            assignment = assignment == null ? new byte[0] : assignment.clone();
        }

        @Override
        public byte[] subscription() {
            return subscription.clone();
        }

        @Override
        public byte[] assignment() {
            return assignment.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MemberMetadata m
                    && memberId.equals(m.memberId)
                    && Objects.equals(groupInstanceId, m.groupInstanceId)
                    && clientId.equals(m.clientId)
                    && clientHost.equals(m.clientHost)
                    && rebalanceTimeoutMs == m.rebalanceTimeoutMs
                    && sessionTimeoutMs == m.sessionTimeoutMs
                    && Arrays.equals(subscription, m.subscription)
                    && Arrays.equals(assignment, m.assignment);
        }

        @Override
        public int hashCode() {
            int h = Objects.hash(memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs);
            return 31 * (31 * h + Arrays.hashCode(subscription)) + Arrays.hashCode(assignment);
        }

        @Override
        public String toString() {
            return "MemberMetadata[memberId=" + memberId + ", groupInstanceId=" + groupInstanceId + ", clientId="
                    + clientId + ", clientHost=" + clientHost + ", rebalanceTimeoutMs=" + rebalanceTimeoutMs
                    + ", sessionTimeoutMs=" + sessionTimeoutMs + ", subscription=" + subscription.length
                    + " bytes, assignment=" + assignment.length + " bytes]";
        }
    }

    /** The group was deleted (DeleteGroups, or an empty group whose offsets all expired). */
    record GroupTombstone(String groupId) implements GroupRecord {
        public GroupTombstone {
            Objects.requireNonNull(groupId, "groupId");
        }

        @Override
        public boolean isTombstone() {
            return true;
        }
    }

    /**
     * A committed offset.
     *
     * @param leaderEpoch the leader epoch of the committed position; -1 if the client did not send one
     * @param metadata the client's metadata string; empty if it sent none
     * @param commitTimestampMs when the coordinator accepted the commit
     * @param expireTimestampMs when the offset expires, for commits with an explicit retention time
     *     (OffsetCommit v2 to v4); -1 otherwise
     */
    record OffsetCommit(
            String groupId,
            String topic,
            int partition,
            long committedOffset,
            int leaderEpoch,
            String metadata,
            long commitTimestampMs,
            long expireTimestampMs)
            implements GroupRecord {
        public OffsetCommit {
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(topic, "topic");
            metadata = metadata == null ? "" : metadata;
        }

        @Override
        public boolean isTombstone() {
            return false;
        }
    }

    /** A committed offset was deleted (OffsetDelete, DeleteGroups, or retention). */
    record OffsetTombstone(String groupId, String topic, int partition) implements GroupRecord {
        public OffsetTombstone {
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(topic, "topic");
        }

        @Override
        public boolean isTombstone() {
            return true;
        }
    }

    /**
     * An offset committed inside a transaction (TxnOffsetCommit): written in a transactional batch of the
     * producer, it stays pending until a COMMIT marker of the producer follows it on the partition (then it
     * becomes the committed offset, unless a later record of the same partition already replaced it) or an
     * ABORT marker drops it. Its compaction key includes the producer id, so it never replaces a committed
     * offset in a compacted log.
     *
     * @param offset the offset to commit; its {@code expireTimestampMs} is always -1
     */
    record TxnOffsetCommit(long producerId, short producerEpoch, OffsetCommit offset) implements GroupRecord {
        public TxnOffsetCommit {
            Objects.requireNonNull(offset, "offset");
        }

        @Override
        public String groupId() {
            return offset.groupId();
        }

        @Override
        public boolean isTombstone() {
            return false;
        }
    }
}
