package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.DeadlineQueue.Key;
import dev.sluice.coordinator.group.GroupRecord.GroupMetadata;
import dev.sluice.coordinator.group.GroupRecord.GroupTombstone;
import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupRecord.TxnOffsetCommit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResultCollection;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * The consumer groups of one {@code __consumer_offsets} partition and their committed offsets: Kafka's
 * classic group coordinator as a pure state machine.
 *
 * <h2>Goals</h2>
 *
 * Answer JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, TxnOffsetCommit, OffsetFetch, DescribeGroups,
 * ListGroups, DeleteGroups and OffsetDelete exactly as Kafka's classic group coordinator does, error codes included, so
 * Kafka's clients (eager and cooperative assignors, static membership) work unchanged. Be deterministic and
 * free of I/O: time comes in as an argument, ids from the supplier given; what must survive a failover leaves
 * as {@link GroupRecord}s.
 *
 * <h2>Use</h2>
 *
 * <ul>
 *   <li>On every replica, {@link #replay} each committed record of the partition, in log order (or the latest
 *       record of each key, in any order: see {@link GroupRecord}).
 *   <li>On the replica that becomes leader, call {@link #activate} once it has replayed every entry up to its
 *       own first entry of the new term (entries of earlier terms still in its log commit with that entry).
 *       From then on {@link #handle} requests and {@link #tick} whenever {@code nowMs >= nextDeadlineMs()};
 *       append each result's records to the partition and send its completions (those with {@code
 *       awaitsCommit} once the records are committed). Do not replay the records this state emitted: it
 *       already reflects them.
 *   <li>On every replica and on the leader, call {@link #replayEndTransactionMarker} for each COMMIT or ABORT
 *       marker applied to the partition, in log order relative to the records replayed (the leader's own
 *       records may already be ahead of the marker: see "Transactions" below).
 *   <li>When leadership is lost, or records could not be appended, call {@link #unload}, answer what it
 *       returns, and drop this instance: it may hold effects that never got committed. A new instance rebuilt
 *       by replay takes over.
 * </ul>
 *
 * <h2>States</h2>
 *
 * A group is Empty, PreparingRebalance, CompletingRebalance or Stable ({@link GroupState}); a deleted group is
 * Dead and removed. Requests can park: a JoinGroup until its group's join phase ends, a follower's SyncGroup
 * until the leader's assignment arrives. Every parked request is answered by a later step: at the latest when
 * the member's session, the rebalance timeout or the sync wait ends.
 *
 * <h2>What is persisted</h2>
 *
 * A group's metadata (generation, protocol type and name, leader, members with their ids, instance ids, client
 * ids, hosts, timeouts, subscription and assignment) when the leader's assignment arrives, when a static
 * member is replaced without a rebalance, and when the group becomes empty; every committed offset; tombstones
 * for deleted groups and offsets; every transactional offset (pending until its producer's marker). Not
 * persisted: a join phase in progress, pending member ids, sessions. A new
 * leader therefore loads each group Empty or Stable as last persisted and gives every member a full session,
 * counted from {@link #activate}, to heartbeat or rejoin.
 *
 * <h2>Transactions</h2>
 *
 * A TxnOffsetCommit emits {@link TxnOffsetCommit} records, written as a transactional batch of the producer;
 * they stay in {@link PendingTxnOffsets} (invisible to OffsetFetch, which answers {@code UNSTABLE_OFFSET_COMMIT}
 * for them when asked for stable offsets) until the producer's marker commits or drops them. The record that
 * is later in the log wins between a transactional and a non-transactional commit of a partition; the leader
 * orders its records by emission, which is their log order, so a marker that overtakes records the leader
 * emitted but the log has not applied yet yields the same committed offsets. The state also refuses a
 * TxnOffsetCommit whose producer epoch is older than one it saw for the producer on this partition
 * ({@code INVALID_PRODUCER_EPOCH}), as the partition's log would.
 *
 * <h2>Invariants</h2>
 *
 * Every parked request belongs to a current member and is answered exactly once. A group preparing a
 * rebalance always has a join deadline. While an instance lives, a group's generation never decreases and an
 * offset commit is applied only for the group's current generation (or, without a generation, to an empty
 * group). Replaying the records an instance emitted yields its {@link #persistedRecords()}.
 *
 * <h2>Threading</h2>
 *
 * Not thread-safe: one thread calls every method (the partition's apply thread, or a single executor the
 * service serializes requests onto).
 */
public final class GroupCoordinatorState {
    private final GroupCoordinatorConfig config;
    private final TreeMap<String, Group> groups = new TreeMap<>();
    private final CommittedOffsets offsets = new CommittedOffsets();
    private final DeadlineQueue timers = new DeadlineQueue();
    private final Membership membership;
    private final OffsetOperations offsetOperations;
    private final PendingTxnOffsets pendingTxnOffsets = new PendingTxnOffsets();
    /** The newest epoch of each producer seen in this partition's transactional records and markers. */
    private final Map<Long, Short> producerEpochs = new HashMap<>();
    /** The position of the next record in log order: what orders transactional and plain commits. */
    private long nextRecordOffset;

    private boolean active;
    private boolean unloaded;

    /** A state whose new member ids end in random UUIDs. */
    public GroupCoordinatorState(GroupCoordinatorConfig config) {
        this(config, UUID::randomUUID);
    }

    /** @param uuids the suffixes of new member ids (tests pass a counter) */
    public GroupCoordinatorState(GroupCoordinatorConfig config, Supplier<UUID> uuids) {
        this.config = Objects.requireNonNull(config, "config");
        RecordLog log = new RecordLog() {
            @Override
            public void emit(GroupRecord record, Effects fx) {
                apply(record);
                fx.append(record);
            }

            @Override
            public void persist(Group group, Effects fx) {
                GroupMetadata record = group.toRecord();
                group.setLastPersisted(record);
                fx.append(record);
            }
        };
        this.membership = new Membership(config, groups, timers, Objects.requireNonNull(uuids, "uuids"), log);
        this.offsetOperations =
                new OffsetOperations(config, groups, offsets, pendingTxnOffsets, producerEpochs, membership, log);
    }

    public GroupCoordinatorConfig config() {
        return config;
    }

    /**
     * The {@code __consumer_offsets} partition whose leader coordinates a group: the group id's hash modulo the
     * partition count, as Kafka places groups (so a group keeps its partition across Sluice and Kafka tools).
     */
    public static int partitionFor(String groupId, int partitionCount) {
        if (partitionCount < 1) {
            throw new IllegalArgumentException("__consumer_offsets has " + partitionCount + " partitions");
        }
        return Utils.abs(groupId.hashCode()) % partitionCount;
    }

    // ---- followers: replay ----

    /**
     * Applies a committed record. Only before {@link #activate}: the leader's own records are already applied.
     *
     * @throws IllegalStateException once active
     */
    public void replay(GroupRecord record) {
        if (active || unloaded) {
            throw new IllegalStateException("replay of " + record.getClass().getSimpleName() + " for group "
                    + record.groupId() + " after activate: the leader's state already holds its records");
        }
        if (record instanceof GroupMetadata metadata) {
            groups.put(metadata.groupId(), Group.fromRecord(metadata));
        } else {
            apply(record);
        }
    }

    /**
     * Restores a pending transactional offset from a view that kept {@link PendingTxnOffsets}: after the groups
     * and committed offsets were replayed, before {@link #activate}. Records emitted later are ordered after it.
     */
    public void replayPendingTxnOffset(PendingTxnOffsets.Entry entry) {
        if (active || unloaded) {
            throw new IllegalStateException("pending transactional offsets restored after activate");
        }
        pendingTxnOffsets.restore(entry);
        TxnOffsetCommit record = entry.record();
        groups.computeIfAbsent(record.groupId(), id -> new Group(id, -1L));
        observeProducerEpoch(record.producerId(), record.producerEpoch());
        nextRecordOffset = Math.max(nextRecordOffset, entry.recordOffset() + 1);
    }

    /**
     * Notes a producer's epoch known to the partition (its producer state after loading), so a TxnOffsetCommit
     * with an older epoch is refused before anything is written.
     */
    public void replayProducerEpoch(long producerId, short producerEpoch) {
        requireNotUnloaded();
        observeProducerEpoch(producerId, producerEpoch);
    }

    /**
     * A COMMIT ({@code commit}) or ABORT marker of the producer was applied to the partition: its pending offsets
     * become committed offsets (except those a later record of their partition replaced) or are dropped. Allowed
     * before and after {@link #activate}: the leader does not write markers, the transaction coordinator does.
     */
    public void replayEndTransactionMarker(long producerId, short producerEpoch, boolean commit) {
        requireNotUnloaded();
        observeProducerEpoch(producerId, producerEpoch);
        for (OffsetCommit committed :
                pendingTxnOffsets.complete(producerId, commit, Long.MAX_VALUE).committed()) {
            offsets.put(committed);
        }
    }

    private void observeProducerEpoch(long producerId, short producerEpoch) {
        producerEpochs.merge(producerId, producerEpoch, (a, b) -> a >= b ? a : b);
    }

    /** Applies an offset record or a group tombstone, the same way for replay and for the leader's writes. */
    private void apply(GroupRecord record) {
        long recordOffset = nextRecordOffset++;
        if (record instanceof OffsetCommit commit) {
            offsets.put(commit);
            pendingTxnOffsets.supersede(commit.groupId(), commit.topic(), commit.partition(), recordOffset);
            groups.computeIfAbsent(commit.groupId(), id -> new Group(id, -1L));
        } else if (record instanceof TxnOffsetCommit txn) {
            pendingTxnOffsets.add(txn, recordOffset);
            observeProducerEpoch(txn.producerId(), txn.producerEpoch());
            groups.computeIfAbsent(txn.groupId(), id -> new Group(id, -1L));
        } else if (record instanceof OffsetTombstone tombstone) {
            offsets.remove(tombstone.groupId(), tombstone.topic(), tombstone.partition());
            pendingTxnOffsets.remove(tombstone.groupId(), tombstone.topic(), tombstone.partition(), recordOffset);
        } else if (record instanceof GroupTombstone tombstone) {
            Group removed = groups.remove(tombstone.groupId());
            if (removed != null) {
                removed.transitionTo(GroupState.DEAD, removed.stateTimestampMs());
                timers.cancel(Key.join(removed.groupId()));
                timers.cancel(Key.sync(removed.groupId()));
            }
        } else {
            throw new IllegalArgumentException("not an offset record or tombstone: " + record);
        }
    }

    // ---- the leader ----

    /**
     * Starts serving after the replay: every member's session starts now; a group larger than {@code
     * group.max.size} rebalances; the retention check is scheduled.
     *
     * @throws IllegalStateException if already active
     */
    public GroupResult activate(long nowMs) {
        requireNotUnloaded();
        if (active) {
            throw new IllegalStateException("group coordinator state activated twice");
        }
        active = true;
        Effects fx = new Effects();
        for (Group group : new ArrayList<>(groups.values())) {
            for (Member m : group.members()) {
                membership.rescheduleHeartbeat(group, m, nowMs);
            }
            if (group.size() > config.maxSize()) {
                membership.prepareRebalance(group, nowMs, fx);
            }
        }
        timers.schedule(Key.retention(), nowMs + config.offsetsRetentionCheckIntervalMs());
        return fx.build();
    }

    /** Handles one request at {@code nowMs}. */
    public GroupResult handle(GroupCommand command, long nowMs) {
        requireActive();
        Effects fx = new Effects();
        if (command instanceof GroupCommand.JoinGroup join) {
            membership.join(join, nowMs, fx);
        } else if (command instanceof GroupCommand.SyncGroup sync) {
            membership.sync(sync, nowMs, fx);
        } else if (command instanceof GroupCommand.Heartbeat heartbeat) {
            membership.heartbeat(heartbeat, nowMs, fx);
        } else if (command instanceof GroupCommand.LeaveGroup leave) {
            membership.leave(leave, nowMs, fx);
        } else if (command instanceof GroupCommand.OffsetCommit commit) {
            offsetOperations.commit(commit, nowMs, fx);
        } else if (command instanceof GroupCommand.TxnOffsetCommit commit) {
            offsetOperations.txnCommit(commit, nowMs, fx);
        } else if (command instanceof GroupCommand.OffsetFetch fetch) {
            offsetOperations.fetch(fetch, fx);
        } else if (command instanceof GroupCommand.OffsetDelete delete) {
            offsetOperations.delete(delete, fx);
        } else if (command instanceof GroupCommand.DescribeGroups describe) {
            fx.reply(describe.requestHandle(), describeGroups(describe));
        } else if (command instanceof GroupCommand.ListGroups list) {
            fx.reply(list.requestHandle(), listGroups(list));
        } else if (command instanceof GroupCommand.DeleteGroups delete) {
            deleteGroups(delete, fx);
        } else {
            throw new IllegalArgumentException("unknown group command " + command);
        }
        return fx.build();
    }

    /**
     * Fires the timers due at {@code nowMs}: sessions, join and sync waits, offsets retention. A timer that a
     * firing timer sets for a moment already past waits for the next call: call again while {@code
     * nextDeadlineMs() <= nowMs}.
     */
    public GroupResult tick(long nowMs) {
        requireActive();
        Effects fx = new Effects();
        long sequenceLimit = timers.nextSequence();
        Key key;
        while ((key = timers.pollDue(nowMs, sequenceLimit)) != null) {
            switch (key.kind()) {
                case HEARTBEAT:
                    membership.onHeartbeatDeadline(key.groupId(), key.memberId(), nowMs, fx);
                    break;
                case JOIN:
                    membership.onJoinDeadline(key.groupId(), nowMs, fx);
                    break;
                case SYNC:
                    membership.onSyncDeadline(key.groupId(), nowMs, fx);
                    break;
                case RETENTION:
                    expireOffsets(nowMs, fx);
                    timers.schedule(Key.retention(), nowMs + config.offsetsRetentionCheckIntervalMs());
                    break;
                default:
                    throw new IllegalStateException("unknown timer " + key);
            }
        }
        return fx.build();
    }

    /** When {@link #tick} next has work: the earliest deadline, or {@link Long#MAX_VALUE} if none. */
    public long nextDeadlineMs() {
        return timers.nextDeadlineMs();
    }

    /**
     * Gives up the partition: answers every parked request with NOT_COORDINATOR (the clients then find the new
     * coordinator) and makes this instance unusable.
     */
    public GroupResult unload() {
        requireNotUnloaded();
        Effects fx = new Effects();
        membership.answerAllParked(fx);
        unloaded = true;
        active = false;
        timers.clear();
        return fx.build();
    }

    public boolean isActive() {
        return active;
    }

    // ---- views ----

    /**
     * The persisted view as a compacted log: the last metadata record of every group that has one, then every
     * committed offset, in group, topic and partition order. Replaying these into a fresh state rebuilds the
     * same view (usable as a snapshot). Pending transactional offsets are not part of it: see {@link
     * #pendingTxnOffsets(long)}.
     */
    public List<GroupRecord> persistedRecords() {
        List<GroupRecord> records = new ArrayList<>();
        for (Group group : groups.values()) {
            if (group.lastPersisted() != null) {
                records.add(group.lastPersisted());
            }
        }
        records.addAll(offsets.all());
        return records;
    }

    /** The producer's pending transactional offsets, in group, topic and partition order. */
    public List<PendingTxnOffsets.Entry> pendingTxnOffsets(long producerId) {
        return pendingTxnOffsets.entries(producerId);
    }

    /** The producers with pending transactional offsets, in order. */
    public List<Long> pendingTxnProducerIds() {
        return pendingTxnOffsets.producerIds();
    }

    /** Whether an open transaction holds an offset of the group for the partition. */
    public boolean hasPendingTxnOffsets(String groupId, String topic, int partition) {
        return pendingTxnOffsets.hasPending(groupId, topic, partition);
    }

    /** The group's state, or {@link GroupState#DEAD} for an unknown group. */
    public GroupState groupState(String groupId) {
        Group group = groups.get(groupId);
        return group == null ? GroupState.DEAD : group.state();
    }

    /** The group's generation, or -1 for an unknown group. */
    public int generationId(String groupId) {
        Group group = groups.get(groupId);
        return group == null ? -1 : group.generationId();
    }

    /** The ids of the groups this state holds, in order. */
    public Set<String> groupIds() {
        return new TreeSet<>(groups.keySet());
    }

    /**
     * Checks the invariants of every group and of the timers (a group preparing a rebalance has a join
     * deadline; a member without a parked request has a session deadline; a group owing syncs has a sync
     * deadline). For tests; throws {@link IllegalStateException} naming what is wrong.
     */
    void checkInvariants() {
        if (!active) {
            return;
        }
        for (Group group : groups.values()) {
            group.checkInvariants();
            if (group.isInState(GroupState.PREPARING_REBALANCE) && !timers.isScheduled(Key.join(group.groupId()))) {
                throw new IllegalStateException(
                        "group " + group.groupId() + " prepares a rebalance without a deadline");
            }
            if (group.isInState(GroupState.COMPLETING_REBALANCE)
                    && !group.pendingSyncMembers().isEmpty()
                    && !timers.isScheduled(Key.sync(group.groupId()))) {
                throw new IllegalStateException("group " + group.groupId() + " waits for syncs without a deadline");
            }
            for (Member m : group.members()) {
                if (!m.isAwaitingJoin()
                        && !m.isAwaitingSync()
                        && !timers.isScheduled(Key.heartbeat(group.groupId(), m.memberId()))) {
                    throw new IllegalStateException(
                            "member " + m.memberId() + " of group " + group.groupId() + " has no session deadline");
                }
            }
        }
    }

    /** The group's metadata as it is in memory now (ahead of the persisted record during a rebalance). */
    GroupMetadata currentMetadata(String groupId) {
        Group group = groups.get(groupId);
        return group == null ? null : group.toRecord();
    }

    /** The group's last persisted metadata, or null. */
    GroupMetadata lastPersisted(String groupId) {
        Group group = groups.get(groupId);
        return group == null ? null : group.lastPersisted();
    }

    // ---- DescribeGroups, ListGroups, DeleteGroups ----

    private DescribeGroupsResponseData describeGroups(GroupCommand.DescribeGroups command) {
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        for (String groupId : command.request().groups()) {
            DescribedGroup described = new DescribedGroup().setGroupId(groupId);
            Group group = groupId == null ? null : groups.get(groupId);
            if (groupId == null) {
                described.setErrorCode(Errors.INVALID_GROUP_ID.code());
            } else if (group == null) {
                described.setGroupState(GroupState.DEAD.displayName());
                if (command.context().apiVersion() >= 6) {
                    described
                            .setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                            .setErrorMessage("Group " + groupId + " not found.");
                }
            } else {
                boolean stable = group.isInState(GroupState.STABLE);
                described
                        .setGroupState(group.state().displayName())
                        .setProtocolType(group.protocolType() == null ? "" : group.protocolType())
                        .setProtocolData(stable ? group.protocolName() : "");
                for (Member m : group.members()) {
                    described
                            .members()
                            .add(new DescribedGroupMember()
                                    .setMemberId(m.memberId())
                                    .setGroupInstanceId(m.groupInstanceId())
                                    .setClientId(m.clientId())
                                    .setClientHost(m.clientHost())
                                    .setMemberMetadata(stable ? m.metadata(group.protocolName()) : new byte[0])
                                    .setMemberAssignment(m.assignment()));
                }
            }
            response.groups().add(described);
        }
        return response;
    }

    private ListGroupsResponseData listGroups(GroupCommand.ListGroups command) {
        Set<String> states = new HashSet<>();
        for (String s : command.request().statesFilter()) {
            states.add(s.trim().toLowerCase(Locale.ROOT));
        }
        boolean classicWanted = command.request().typesFilter().isEmpty();
        for (String type : command.request().typesFilter()) {
            classicWanted |= type.trim().equalsIgnoreCase("classic");
        }
        ListGroupsResponseData response = new ListGroupsResponseData();
        if (!classicWanted) {
            return response;
        }
        for (Group group : groups.values()) {
            if (states.isEmpty() || states.contains(group.state().lowerCaseName())) {
                response.groups()
                        .add(new ListedGroup()
                                .setGroupId(group.groupId())
                                .setProtocolType(group.protocolType() == null ? "" : group.protocolType())
                                .setGroupState(group.state().displayName())
                                .setGroupType("classic"));
            }
        }
        return response;
    }

    private void deleteGroups(GroupCommand.DeleteGroups command, Effects fx) {
        DeletableGroupResultCollection results = new DeletableGroupResultCollection();
        for (String groupId : command.request().groupsNames()) {
            Group group = groupId == null ? null : groups.get(groupId);
            Errors error;
            if (groupId == null) {
                error = Errors.INVALID_GROUP_ID;
            } else if (group == null) {
                error = Errors.GROUP_ID_NOT_FOUND;
            } else if (!group.isInState(GroupState.EMPTY)) {
                error = Errors.NON_EMPTY_GROUP;
            } else {
                deleteGroup(group, fx);
                error = Errors.NONE;
            }
            results.add(new DeletableGroupResult().setGroupId(groupId).setErrorCode(error.code()));
        }
        fx.replyAfterRecords(command.requestHandle(), new DeleteGroupsResponseData().setResults(results));
    }

    /** Tombstones for the group's offsets and the group. */
    private void deleteGroup(Group group, Effects fx) {
        offsetOperations.deleteAll(group, fx);
        GroupTombstone tombstone = new GroupTombstone(group.groupId());
        apply(tombstone);
        fx.append(tombstone);
    }

    /** Expires offsets; an empty group left without offsets (and without pending joins) is deleted. */
    private void expireOffsets(long nowMs, Effects fx) {
        for (Group group : new ArrayList<>(groups.values())) {
            boolean noOffsetsLeft = offsetOperations.expire(group, nowMs, fx);
            if (noOffsetsLeft && group.isInState(GroupState.EMPTY) && !group.hasPendingMembers()) {
                deleteGroup(group, fx);
            }
        }
    }

    private void requireActive() {
        requireNotUnloaded();
        if (!active) {
            throw new IllegalStateException("group coordinator state used before activate");
        }
    }

    private void requireNotUnloaded() {
        if (unloaded) {
            throw new IllegalStateException("group coordinator state used after unload");
        }
    }
}
