package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import dev.sluice.coordinator.group.GroupRecord.OffsetTombstone;
import dev.sluice.coordinator.group.GroupRecord.TxnOffsetCommit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopic;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartitionCollection;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopicCollection;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete and offsets retention, over the groups of
 * {@link GroupCoordinatorState}.
 *
 * <p>Who may commit: a member of the group with the group's current generation (not while the group waits
 * for the leader's assignment), or anyone with generation -1 and no member id while the group is empty (a
 * consumer with {@code assign()}, or an admin tool); such a commit to an unknown group creates it. A commit
 * from an older generation is refused with ILLEGAL_GENERATION, so a zombie cannot move the offsets of
 * partitions that now belong to someone else.
 *
 * <p>A transactional commit is checked the same way, with two allowances (Kafka's): it is accepted while the
 * group waits for the leader's assignment, and without member id and generation (TxnOffsetCommit v0 to v2
 * carry neither) also by a group that has members. Its offsets stay pending until the producer's transaction
 * ends; while any is pending, the partition's committed offset does not expire and the group is not deleted
 * by retention.
 */
final class OffsetOperations {
    /** The offset OffsetFetch returns for a partition without a committed offset. */
    static final long NO_OFFSET = -1L;

    private final GroupCoordinatorConfig config;
    private final Map<String, Group> groups;
    private final CommittedOffsets offsets;
    private final PendingTxnOffsets pendingTxnOffsets;
    private final Map<Long, Short> producerEpochs;
    private final Membership membership;
    private final RecordLog log;

    OffsetOperations(
            GroupCoordinatorConfig config,
            Map<String, Group> groups,
            CommittedOffsets offsets,
            PendingTxnOffsets pendingTxnOffsets,
            Map<Long, Short> producerEpochs,
            Membership membership,
            RecordLog log) {
        this.config = config;
        this.groups = groups;
        this.offsets = offsets;
        this.pendingTxnOffsets = pendingTxnOffsets;
        this.producerEpochs = producerEpochs;
        this.membership = membership;
        this.log = log;
    }

    // ---- OffsetCommit ----

    void commit(GroupCommand.OffsetCommit command, long nowMs, Effects fx) {
        OffsetCommitRequestData request = command.request();
        long handle = command.requestHandle();
        if (request.groupId() == null) {
            fx.reply(handle, commitError(request, Errors.INVALID_GROUP_ID));
            return;
        }
        Group group = groups.get(request.groupId());
        Errors error;
        if (group == null && request.generationIdOrMemberEpoch() < 0) {
            // A consumer without group management (assign()) or an admin tool: a group of its own.
            group = new Group(request.groupId(), -1L);
            groups.put(group.groupId(), group);
            error = Errors.NONE;
        } else if (group == null) {
            error = command.context().apiVersion() >= 9 ? Errors.GROUP_ID_NOT_FOUND : Errors.ILLEGAL_GENERATION;
        } else {
            error = validateCommit(group, request);
        }
        if (error != Errors.NONE) {
            fx.reply(handle, commitError(request, error));
            return;
        }
        String memberId = request.memberId() == null ? "" : request.memberId();
        if (group.isInState(GroupState.STABLE) || group.isInState(GroupState.PREPARING_REBALANCE)) {
            // A commit proves the member alive, as a heartbeat does.
            membership.rescheduleHeartbeat(group, group.member(memberId), nowMs);
        }
        long expireTimestampMs = request.retentionTimeMs() < 0 ? -1L : nowMs + request.retentionTimeMs();
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestTopic topic : request.topics()) {
            OffsetCommitResponseTopic topicResponse =
                    new OffsetCommitResponseTopic().setName(topic.name()).setTopicId(topic.topicId());
            response.topics().add(topicResponse);
            for (OffsetCommitRequestPartition p : topic.partitions()) {
                Errors partitionError = Errors.NONE;
                if (p.committedMetadata() != null && p.committedMetadata().length() > config.offsetMetadataMaxBytes()) {
                    partitionError = Errors.OFFSET_METADATA_TOO_LARGE;
                } else {
                    log.emit(
                            new OffsetCommit(
                                    request.groupId(),
                                    topic.name(),
                                    p.partitionIndex(),
                                    p.committedOffset(),
                                    p.committedLeaderEpoch(),
                                    p.committedMetadata(),
                                    nowMs,
                                    expireTimestampMs),
                            fx);
                }
                topicResponse
                        .partitions()
                        .add(new OffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(partitionError.code()));
            }
        }
        fx.replyAfterRecords(handle, response);
    }

    private static Errors validateCommit(Group group, OffsetCommitRequestData request) {
        int generationId = request.generationIdOrMemberEpoch();
        String memberId = request.memberId() == null ? "" : request.memberId();
        if (generationId < 0 && group.isInState(GroupState.EMPTY)) {
            return Errors.NONE;
        }
        if (generationId >= 0 || !memberId.isEmpty() || request.groupInstanceId() != null) {
            Errors error = Membership.validateMember(group, memberId, request.groupInstanceId());
            if (error != Errors.NONE) {
                return error;
            }
            if (generationId != group.generationId()) {
                return Errors.ILLEGAL_GENERATION;
            }
        } else if (!group.isInState(GroupState.EMPTY)) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (group.isInState(GroupState.COMPLETING_REBALANCE)) {
            // The member's partitions are about to change; it must commit after it has its new assignment.
            return Errors.REBALANCE_IN_PROGRESS;
        }
        return Errors.NONE;
    }

    private static OffsetCommitResponseData commitError(OffsetCommitRequestData request, Errors error) {
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        for (OffsetCommitRequestTopic topic : request.topics()) {
            OffsetCommitResponseTopic topicResponse =
                    new OffsetCommitResponseTopic().setName(topic.name()).setTopicId(topic.topicId());
            for (OffsetCommitRequestPartition p : topic.partitions()) {
                topicResponse
                        .partitions()
                        .add(new OffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(error.code()));
            }
            response.topics().add(topicResponse);
        }
        return response;
    }

    // ---- TxnOffsetCommit ----

    void txnCommit(GroupCommand.TxnOffsetCommit command, long nowMs, Effects fx) {
        TxnOffsetCommitRequestData request = command.request();
        long handle = command.requestHandle();
        Errors error;
        Short knownEpoch = producerEpochs.get(request.producerId());
        Group group = request.groupId() == null ? null : groups.get(request.groupId());
        if (request.groupId() == null || request.groupId().isEmpty()) {
            error = Errors.INVALID_GROUP_ID;
        } else if (knownEpoch != null && request.producerEpoch() < knownEpoch) {
            // The partition's log would refuse the batch: the producer was fenced by a newer epoch.
            error = Errors.INVALID_PRODUCER_EPOCH;
        } else if (group == null && request.generationId() < 0) {
            // A producer that consumes without group management: a group of its own, as for OffsetCommit.
            group = new Group(request.groupId(), -1L);
            groups.put(group.groupId(), group);
            error = Errors.NONE;
        } else if (group == null) {
            error = Errors.ILLEGAL_GENERATION;
        } else {
            error = validateTxnCommit(group, request);
        }
        if (error != Errors.NONE) {
            fx.reply(handle, txnCommitError(request, error));
            return;
        }
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestTopic topic : request.topics()) {
            TxnOffsetCommitResponseTopic topicResponse = new TxnOffsetCommitResponseTopic().setName(topic.name());
            response.topics().add(topicResponse);
            for (TxnOffsetCommitRequestPartition p : topic.partitions()) {
                Errors partitionError = Errors.NONE;
                if (p.committedMetadata() != null && p.committedMetadata().length() > config.offsetMetadataMaxBytes()) {
                    partitionError = Errors.OFFSET_METADATA_TOO_LARGE;
                } else {
                    OffsetCommit offset = new OffsetCommit(
                            request.groupId(),
                            topic.name(),
                            p.partitionIndex(),
                            p.committedOffset(),
                            p.committedLeaderEpoch(),
                            p.committedMetadata(),
                            nowMs,
                            -1L);
                    log.emit(new TxnOffsetCommit(request.producerId(), request.producerEpoch(), offset), fx);
                }
                topicResponse
                        .partitions()
                        .add(new TxnOffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(partitionError.code()));
            }
        }
        fx.replyAfterRecords(handle, response);
    }

    private static Errors validateTxnCommit(Group group, TxnOffsetCommitRequestData request) {
        int generationId = request.generationId();
        String memberId = request.memberId() == null ? "" : request.memberId();
        if (generationId < 0 && group.isInState(GroupState.EMPTY)) {
            return Errors.NONE;
        }
        if (generationId >= 0 || !memberId.isEmpty() || request.groupInstanceId() != null) {
            Errors error = Membership.validateMember(group, memberId, request.groupInstanceId());
            if (error != Errors.NONE) {
                return error;
            }
            if (generationId != group.generationId()) {
                return Errors.ILLEGAL_GENERATION;
            }
        }
        return Errors.NONE;
    }

    static TxnOffsetCommitResponseData txnCommitError(TxnOffsetCommitRequestData request, Errors error) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestTopic topic : request.topics()) {
            TxnOffsetCommitResponseTopic topicResponse = new TxnOffsetCommitResponseTopic().setName(topic.name());
            for (TxnOffsetCommitRequestPartition p : topic.partitions()) {
                topicResponse
                        .partitions()
                        .add(new TxnOffsetCommitResponsePartition()
                                .setPartitionIndex(p.partitionIndex())
                                .setErrorCode(error.code()));
            }
            response.topics().add(topicResponse);
        }
        return response;
    }

    // ---- OffsetFetch ----

    void fetch(GroupCommand.OffsetFetch command, Effects fx) {
        OffsetFetchRequestGroup request = command.group();
        OffsetFetchResponseGroup response = new OffsetFetchResponseGroup().setGroupId(request.groupId());
        if (request.groupId() == null) {
            response.setErrorCode(Errors.INVALID_GROUP_ID.code());
        } else if (request.topics() == null) {
            for (Map.Entry<String, TreeMap<Integer, OffsetCommit>> topic :
                    offsets.ofGroup(request.groupId()).entrySet()) {
                OffsetFetchResponseTopics topicResponse = new OffsetFetchResponseTopics().setName(topic.getKey());
                for (OffsetCommit commit : topic.getValue().values()) {
                    topicResponse
                            .partitions()
                            .add(partitionOffset(command, topic.getKey(), commit.partition(), commit));
                }
                response.topics().add(topicResponse);
            }
        } else {
            // An unknown group has no offsets: every partition answers -1, as in Kafka.
            for (OffsetFetchRequestTopics topic : request.topics()) {
                OffsetFetchResponseTopics topicResponse =
                        new OffsetFetchResponseTopics().setName(topic.name()).setTopicId(topic.topicId());
                for (int partition : topic.partitionIndexes()) {
                    OffsetCommit commit = offsets.get(request.groupId(), topic.name(), partition);
                    topicResponse.partitions().add(partitionOffset(command, topic.name(), partition, commit));
                }
                response.topics().add(topicResponse);
            }
        }
        // The state already holds commits whose records are not committed yet; a reader must not see an offset
        // that a coordinator failover could take back, so every fetch waits for what was emitted before it
        // (with require_stable, a partition whose offset is pending in an open transaction is refused instead).
        fx.replyAfterEverythingCommitted(command.requestHandle(), response);
    }

    private OffsetFetchResponsePartitions partitionOffset(
            GroupCommand.OffsetFetch command, String topic, int partition, OffsetCommit commit) {
        OffsetFetchResponsePartitions p = new OffsetFetchResponsePartitions().setPartitionIndex(partition);
        if (command.requireStable()
                && pendingTxnOffsets.hasPending(command.group().groupId(), topic, partition)) {
            // The consumer retries until the transaction ends, so it never starts from an offset about to move.
            return p.setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code())
                    .setCommittedOffset(NO_OFFSET)
                    .setCommittedLeaderEpoch(-1)
                    .setMetadata("");
        }
        if (commit == null) {
            return p.setCommittedOffset(NO_OFFSET).setCommittedLeaderEpoch(-1).setMetadata("");
        }
        return p.setCommittedOffset(commit.committedOffset())
                .setCommittedLeaderEpoch(commit.leaderEpoch())
                .setMetadata(commit.metadata());
    }

    // ---- OffsetDelete ----

    void delete(GroupCommand.OffsetDelete command, Effects fx) {
        OffsetDeleteRequestData request = command.request();
        long handle = command.requestHandle();
        if (request.groupId() == null || request.groupId().isEmpty()) {
            fx.reply(handle, new OffsetDeleteResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code()));
            return;
        }
        Group group = groups.get(request.groupId());
        if (group == null) {
            fx.reply(handle, new OffsetDeleteResponseData().setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()));
            return;
        }
        if (!group.isInState(GroupState.EMPTY) && !group.usesConsumerProtocol()) {
            // Without readable subscriptions, only an empty group's offsets are known to be unused.
            fx.reply(handle, new OffsetDeleteResponseData().setErrorCode(Errors.NON_EMPTY_GROUP.code()));
            return;
        }
        OffsetDeleteResponseTopicCollection topics = new OffsetDeleteResponseTopicCollection();
        for (OffsetDeleteRequestTopic topic : request.topics()) {
            boolean subscribed = group.isSubscribedTo(topic.name());
            OffsetDeleteResponsePartitionCollection partitions = new OffsetDeleteResponsePartitionCollection();
            for (OffsetDeleteRequestPartition p : topic.partitions()) {
                Errors error = subscribed ? Errors.GROUP_SUBSCRIBED_TO_TOPIC : Errors.NONE;
                partitions.add(new OffsetDeleteResponsePartition()
                        .setPartitionIndex(p.partitionIndex())
                        .setErrorCode(error.code()));
                if (!subscribed
                        && (offsets.get(group.groupId(), topic.name(), p.partitionIndex()) != null
                                || pendingTxnOffsets.hasPending(group.groupId(), topic.name(), p.partitionIndex()))) {
                    log.emit(new OffsetTombstone(group.groupId(), topic.name(), p.partitionIndex()), fx);
                }
            }
            topics.add(new OffsetDeleteResponseTopic().setName(topic.name()).setPartitions(partitions));
        }
        fx.replyAfterRecords(handle, new OffsetDeleteResponseData().setTopics(topics));
    }

    /** Tombstones for every offset of the group, committed or pending in a transaction (DeleteGroups). */
    void deleteAll(Group group, Effects fx) {
        TreeMap<String, TreeSet<Integer>> pendingOnly = pendingTxnOffsets.pendingPartitions(group.groupId());
        for (OffsetCommit commit : offsets.listOfGroup(group.groupId())) {
            TreeSet<Integer> partitions = pendingOnly.get(commit.topic());
            if (partitions != null) {
                partitions.remove(commit.partition());
            }
            log.emit(new OffsetTombstone(commit.groupId(), commit.topic(), commit.partition()), fx);
        }
        pendingOnly.forEach((topic, partitions) -> {
            for (int partition : partitions) {
                log.emit(new OffsetTombstone(group.groupId(), topic, partition), fx);
            }
        });
    }

    // ---- retention ----

    /**
     * Deletes the group's expired offsets. Offsets expire {@code offsets.retention.minutes} after the group
     * became empty; for a group that never had members, after their commit; for a stable consumer group,
     * after their commit when no member subscribes to the topic. An explicit retention of the commit (v2 to
     * v4) overrides these. An offset pending in an open transaction keeps its partition's committed offset.
     *
     * @return true if the group has no offsets left, committed or pending
     */
    boolean expire(Group group, long nowMs, Effects fx) {
        boolean pending = pendingTxnOffsets.hasPending(group.groupId());
        if (!offsets.hasOffsets(group.groupId())) {
            return !pending;
        }
        boolean fromStateChange;
        if (group.protocolType() == null) {
            fromStateChange = false;
        } else if (group.isInState(GroupState.EMPTY)) {
            fromStateChange = group.stateTimestampMs() >= 0;
        } else if (group.usesConsumerProtocol()
                && group.hasKnownSubscriptions()
                && group.isInState(GroupState.STABLE)) {
            fromStateChange = false;
        } else {
            return false;
        }
        List<OffsetTombstone> expired = new ArrayList<>();
        int kept = 0;
        for (OffsetCommit commit : offsets.listOfGroup(group.groupId())) {
            long baseMs = fromStateChange ? group.stateTimestampMs() : commit.commitTimestampMs();
            boolean isExpired = commit.expireTimestampMs() >= 0
                    ? nowMs >= commit.expireTimestampMs()
                    : nowMs - baseMs >= config.offsetsRetentionMs();
            if (isExpired
                    && !group.isSubscribedTo(commit.topic())
                    && !pendingTxnOffsets.hasPending(commit.groupId(), commit.topic(), commit.partition())) {
                expired.add(new OffsetTombstone(commit.groupId(), commit.topic(), commit.partition()));
            } else {
                kept++;
            }
        }
        for (OffsetTombstone tombstone : expired) {
            log.emit(tombstone, fx);
        }
        return kept == 0 && !pending;
    }
}
