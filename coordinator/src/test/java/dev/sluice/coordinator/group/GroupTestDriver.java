package dev.sluice.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.coordinator.group.GroupResult.Completion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopic;
import org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData.SyncGroupRequestAssignment;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.utils.Utils;

/**
 * Drives a {@link GroupCoordinatorState} in tests: a fake clock (a plain long), request builders with
 * sensible defaults, every emitted record kept (for replay checks) and every completion kept by handle.
 */
final class GroupTestDriver {
    static final String GROUP = "g";
    static final String CONSUMER = ConsumerProtocol.PROTOCOL_TYPE;
    static final int SESSION_MS = 10_000;
    static final int REBALANCE_MS = 60_000;
    static final short JOIN_VERSION = 9;

    long nowMs = 1_000_000L;
    final GroupCoordinatorConfig config;
    GroupCoordinatorState state;
    final List<GroupRecord> log = new ArrayList<>();
    /** The records and transaction markers in log order. */
    final List<Object> history = new ArrayList<>();

    final Map<Long, Completion> completions = new HashMap<>();
    /** The records of the last step. */
    List<GroupRecord> lastRecords = List.of();

    private long nextHandle = 1;
    private long nextUuid = 1;

    GroupTestDriver() {
        this(GroupCoordinatorConfig.defaults());
    }

    GroupTestDriver(GroupCoordinatorConfig config) {
        this.config = config;
        this.state = newState();
        absorb(state.activate(nowMs));
    }

    GroupCoordinatorState newState() {
        return new GroupCoordinatorState(config, () -> new UUID(0, nextUuid++));
    }

    /** Replays every record emitted so far into a fresh state, activates it now and drives that one from now on. */
    GroupCoordinatorState failOver() {
        absorb(state.unload());
        GroupCoordinatorState next = newState();
        for (Object entry : history) {
            if (entry instanceof GroupRecord record) {
                next.replay(GroupRecordCodec.decode(GroupRecordCodec.encode(record)));
            } else {
                Marker marker = (Marker) entry;
                next.replayEndTransactionMarker(marker.producerId(), marker.producerEpoch(), marker.commit());
            }
        }
        state = next;
        absorb(state.activate(nowMs));
        return next;
    }

    // ---- clock ----

    /** Moves the clock and fires every timer that comes due on the way, at its deadline. */
    void advance(long ms) {
        long target = nowMs + ms;
        while (state.nextDeadlineMs() <= target) {
            nowMs = Math.max(nowMs, state.nextDeadlineMs());
            absorb(state.tick(nowMs));
        }
        nowMs = target;
    }

    /** Moves the clock in steps, the given members heartbeating at every step so their sessions never end. */
    void advanceHeartbeating(long ms, int generationId, String... memberIds) {
        long step = SESSION_MS / 2;
        long left = ms;
        while (left > 0) {
            long next = Math.min(step, left);
            advance(next);
            left -= next;
            for (String memberId : memberIds) {
                heartbeat(memberId, generationId);
            }
        }
    }

    // ---- sending ----

    long send(GroupCommand command) {
        absorb(state.handle(command, nowMs));
        return command.requestHandle();
    }

    GroupCommand.Context context(short version) {
        return new GroupCommand.Context(nextHandle++, version, "client", "/127.0.0.1");
    }

    void absorb(GroupResult result) {
        state.checkInvariants();
        lastRecords = result.records();
        log.addAll(result.records());
        history.addAll(result.records());
        for (Completion c : result.completions()) {
            assertThat(completions)
                    .as("request %d answered twice", c.requestHandle())
                    .doesNotContainKey(c.requestHandle());
            completions.put(c.requestHandle(), c);
        }
    }

    boolean isParked(long handle) {
        return !completions.containsKey(handle);
    }

    Completion completion(long handle) {
        assertThat(completions).as("request %d answered", handle).containsKey(handle);
        return completions.get(handle);
    }

    <T extends Message> T response(long handle, Class<T> type) {
        return type.cast(completion(handle).response());
    }

    // ---- JoinGroup ----

    static byte[] subscription(String... topics) {
        return Utils.toArray(ConsumerProtocol.serializeSubscription(new Subscription(Arrays.asList(topics))));
    }

    static byte[] assignment(TopicPartition... partitions) {
        return Utils.toArray(ConsumerProtocol.serializeAssignment(new Assignment(Arrays.asList(partitions))));
    }

    static List<TopicPartition> partitionsOf(byte[] assignment) {
        return ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(assignment))
                .partitions();
    }

    static JoinGroupRequestProtocolCollection protocols(String... names) {
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        for (String name : names) {
            protocols.add(new JoinGroupRequestProtocol().setName(name).setMetadata(subscription("t")));
        }
        return protocols;
    }

    static JoinGroupRequestData joinRequest(String memberId) {
        return new JoinGroupRequestData()
                .setGroupId(GROUP)
                .setMemberId(memberId)
                .setSessionTimeoutMs(SESSION_MS)
                .setRebalanceTimeoutMs(REBALANCE_MS)
                .setProtocolType(CONSUMER)
                .setProtocols(protocols("range"));
    }

    long join(JoinGroupRequestData request) {
        return join(request, JOIN_VERSION);
    }

    long join(JoinGroupRequestData request, short version) {
        return send(new GroupCommand.JoinGroup(context(version), request));
    }

    JoinGroupResponseData joinResponse(long handle) {
        return response(handle, JoinGroupResponseData.class);
    }

    /** The MEMBER_ID_REQUIRED round trip of a new dynamic member; the returned id is pending. */
    String newMemberId(JoinGroupRequestData request) {
        JoinGroupResponseData response = joinResponse(join(request.duplicate().setMemberId("")));
        assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.MEMBER_ID_REQUIRED);
        return response.memberId();
    }

    /** A new dynamic member joins with the id it was handed: the join parks. Returns the join's handle. */
    long joinNew(JoinGroupRequestData request) {
        String memberId = newMemberId(request);
        return join(request.duplicate().setMemberId(memberId));
    }

    /** Waits out the initial rebalance delay (the first join phase of an empty group), however often extended. */
    void passInitialDelay() {
        do {
            advance(config.initialRebalanceDelayMs());
        } while (state.groupState(GROUP) == GroupState.PREPARING_REBALANCE);
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup ----

    long sync(String memberId, int generationId, Map<String, byte[]> assignments) {
        List<SyncGroupRequestAssignment> list = new ArrayList<>();
        assignments.forEach((id, bytes) ->
                list.add(new SyncGroupRequestAssignment().setMemberId(id).setAssignment(bytes)));
        return send(new GroupCommand.SyncGroup(
                context((short) 5),
                new SyncGroupRequestData()
                        .setGroupId(GROUP)
                        .setMemberId(memberId)
                        .setGenerationId(generationId)
                        .setAssignments(list)));
    }

    long sync(String memberId, int generationId) {
        return sync(memberId, generationId, Map.of());
    }

    SyncGroupResponseData syncResponse(long handle) {
        return response(handle, SyncGroupResponseData.class);
    }

    Errors heartbeat(String memberId, int generationId) {
        return heartbeat(memberId, null, generationId);
    }

    Errors heartbeat(String memberId, String groupInstanceId, int generationId) {
        long handle = send(new GroupCommand.Heartbeat(
                context((short) 4),
                new HeartbeatRequestData()
                        .setGroupId(GROUP)
                        .setMemberId(memberId)
                        .setGroupInstanceId(groupInstanceId)
                        .setGenerationId(generationId)));
        return Errors.forCode(response(handle, HeartbeatResponseData.class).errorCode());
    }

    LeaveGroupResponseData leave(MemberIdentity... members) {
        long handle = send(new GroupCommand.LeaveGroup(
                context((short) 5),
                new LeaveGroupRequestData().setGroupId(GROUP).setMembers(Arrays.asList(members))));
        return response(handle, LeaveGroupResponseData.class);
    }

    // ---- offsets ----

    static OffsetCommitRequestData commitRequest(
            String memberId, int generationId, String topic, int partition, long offset) {
        return new OffsetCommitRequestData()
                .setGroupId(GROUP)
                .setMemberId(memberId)
                .setGenerationIdOrMemberEpoch(generationId)
                .setTopics(new ArrayList<>(List.of(new OffsetCommitRequestTopic()
                        .setName(topic)
                        .setPartitions(new ArrayList<>(List.of(new OffsetCommitRequestPartition()
                                .setPartitionIndex(partition)
                                .setCommittedOffset(offset)
                                .setCommittedLeaderEpoch(3)
                                .setCommittedMetadata("m")))))));
    }

    /** A COMMIT or ABORT marker of a producer in the log. */
    record Marker(long producerId, short producerEpoch, boolean commit) {}

    /** A transaction marker reaches the partition: the state applies it, the history keeps it. */
    void endTxn(long producerId, short producerEpoch, boolean commit) {
        state.replayEndTransactionMarker(producerId, producerEpoch, commit);
        history.add(new Marker(producerId, producerEpoch, commit));
    }

    static TxnOffsetCommitRequestData txnCommitRequest(
            long producerId,
            short producerEpoch,
            String memberId,
            int generationId,
            String topic,
            int partition,
            long offset) {
        return new TxnOffsetCommitRequestData()
                .setTransactionalId("tx-" + producerId)
                .setGroupId(GROUP)
                .setProducerId(producerId)
                .setProducerEpoch(producerEpoch)
                .setMemberId(memberId)
                .setGenerationId(generationId)
                .setTopics(new ArrayList<>(List.of(new TxnOffsetCommitRequestTopic()
                        .setName(topic)
                        .setPartitions(new ArrayList<>(List.of(new TxnOffsetCommitRequestPartition()
                                .setPartitionIndex(partition)
                                .setCommittedOffset(offset)
                                .setCommittedLeaderEpoch(3)
                                .setCommittedMetadata("m")))))));
    }

    long txnCommit(TxnOffsetCommitRequestData request, short version) {
        return send(new GroupCommand.TxnOffsetCommit(context(version), request));
    }

    /** The error of the first partition of a TxnOffsetCommit v3. */
    Errors txnCommit(long producerId, String memberId, int generationId, String topic, int partition, long offset) {
        return txnCommit(producerId, (short) 0, memberId, generationId, topic, partition, offset);
    }

    /** The error of the first partition of a TxnOffsetCommit v3. */
    Errors txnCommit(
            long producerId,
            short producerEpoch,
            String memberId,
            int generationId,
            String topic,
            int partition,
            long offset) {
        long handle = txnCommit(
                txnCommitRequest(producerId, producerEpoch, memberId, generationId, topic, partition, offset),
                (short) 3);
        TxnOffsetCommitResponseData response = response(handle, TxnOffsetCommitResponseData.class);
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }

    /** OffsetFetch with RequireStable for one partition. */
    OffsetFetchResponsePartitions fetchStable(String topic, int partition) {
        OffsetFetchRequestGroup group = new OffsetFetchRequestGroup()
                .setGroupId(GROUP)
                .setTopics(
                        List.of(new OffsetFetchRequestTopics().setName(topic).setPartitionIndexes(List.of(partition))));
        long handle = send(new GroupCommand.OffsetFetch(context((short) 9), group, true));
        return response(handle, OffsetFetchResponseGroup.class)
                .topics()
                .get(0)
                .partitions()
                .get(0);
    }

    long commit(OffsetCommitRequestData request, short version) {
        return send(new GroupCommand.OffsetCommit(context(version), request));
    }

    /** The error of the first partition of an OffsetCommit v8. */
    Errors commit(String memberId, int generationId, String topic, int partition, long offset) {
        long handle = commit(commitRequest(memberId, generationId, topic, partition, offset), (short) 8);
        OffsetCommitResponseData response = response(handle, OffsetCommitResponseData.class);
        return Errors.forCode(response.topics().get(0).partitions().get(0).errorCode());
    }

    OffsetFetchResponseGroup fetch(String topic, Integer... partitions) {
        OffsetFetchRequestGroup group = new OffsetFetchRequestGroup().setGroupId(GROUP);
        group.setTopics(
                topic == null
                        ? null
                        : List.of(new OffsetFetchRequestTopics()
                                .setName(topic)
                                .setPartitionIndexes(Arrays.asList(partitions))));
        long handle = send(new GroupCommand.OffsetFetch(context((short) 9), group, false));
        return response(handle, OffsetFetchResponseGroup.class);
    }

    /** The committed offset of one partition, -1 if none. */
    long committed(String topic, int partition) {
        return fetch(topic, partition).topics().get(0).partitions().get(0).committedOffset();
    }

    DescribeGroupsResponseData.DescribedGroup describe(short version) {
        long handle = send(new GroupCommand.DescribeGroups(
                context(version), new DescribeGroupsRequestData().setGroups(List.of(GROUP))));
        return response(handle, DescribeGroupsResponseData.class).groups().get(0);
    }

    ListGroupsResponseData list(List<String> states, List<String> types) {
        long handle = send(new GroupCommand.ListGroups(
                context((short) 5),
                new ListGroupsRequestData().setStatesFilter(states).setTypesFilter(types)));
        return response(handle, ListGroupsResponseData.class);
    }

    DeleteGroupsResponseData deleteGroups(String... groupIds) {
        long handle = send(new GroupCommand.DeleteGroups(
                context((short) 2), new DeleteGroupsRequestData().setGroupsNames(Arrays.asList(groupIds))));
        return response(handle, DeleteGroupsResponseData.class);
    }

    OffsetDeleteResponseData deleteOffsets(String topic, int... partitions) {
        OffsetDeleteRequestTopicCollection topics = new OffsetDeleteRequestTopicCollection();
        List<OffsetDeleteRequestPartition> list = new ArrayList<>();
        for (int p : partitions) {
            list.add(new OffsetDeleteRequestPartition().setPartitionIndex(p));
        }
        topics.add(new OffsetDeleteRequestTopic().setName(topic).setPartitions(list));
        long handle = send(new GroupCommand.OffsetDelete(
                context((short) 0),
                new OffsetDeleteRequestData().setGroupId(GROUP).setTopics(topics)));
        return response(handle, OffsetDeleteResponseData.class);
    }

    // ---- whole flows ----

    /** A stable group of the given size: members join (v9), the initial delay passes, everyone syncs. */
    StableGroup stableGroup(int size) {
        List<Long> joins = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            joins.add(joinNew(joinRequest("")));
        }
        passInitialDelay();
        List<String> memberIds = new ArrayList<>();
        String leader = null;
        int generation = -1;
        for (long handle : joins) {
            JoinGroupResponseData response = joinResponse(handle);
            assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.NONE);
            memberIds.add(response.memberId());
            leader = response.leader();
            generation = response.generationId();
        }
        Map<String, byte[]> assignments = new HashMap<>();
        for (int i = 0; i < memberIds.size(); i++) {
            assignments.put(memberIds.get(i), assignment(new TopicPartition("t", i)));
        }
        sync(leader, generation, assignments);
        for (String memberId : memberIds) {
            if (!memberId.equals(leader)) {
                sync(memberId, generation);
            }
        }
        assertThat(state.groupState(GROUP)).isEqualTo(GroupState.STABLE);
        return new StableGroup(memberIds, leader, generation);
    }

    record StableGroup(List<String> memberIds, String leader, int generationId) {
        String follower() {
            return memberIds.stream()
                    .filter(id -> !id.equals(leader))
                    .findFirst()
                    .orElseThrow();
        }
    }
}
