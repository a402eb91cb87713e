package dev.sluice.broker.kafka;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.group.GroupCoordinatorService;
import dev.sluice.broker.net.RequestContext;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorResult;
import dev.sluice.coordinator.group.GroupCommand;
import dev.sluice.coordinator.group.GroupCoordinatorState;
import dev.sluice.partitionstore.LogConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestGroup;
import org.apache.kafka.common.message.OffsetFetchRequestData.OffsetFetchRequestTopics;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetDeleteResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer-group APIs of a node: FindCoordinator, and the classic group protocol and offset APIs, routed to
 * the {@code __consumer_offsets} partition of each group ({@link GroupCoordinatorState#partitionFor}).
 *
 * <p>TxnOffsetCommit is routed like OffsetCommit; the offsets it writes stay pending until the transaction
 * coordinator's COMMIT or ABORT marker reaches the group's offsets partition.
 *
 * <p>A group's coordinator is the leader of its offsets partition. The offsets topic is created, through the
 * coordinator like any topic, by the first FindCoordinator for a group; until it exists and its partition has a
 * leader, FindCoordinator answers {@code COORDINATOR_NOT_AVAILABLE}. Requests for groups this node does not
 * coordinate get {@code NOT_COORDINATOR}; requests naming several groups (OffsetFetch v8+, DescribeGroups,
 * DeleteGroups) are split by partition and merged, with that error for the groups of other partitions.
 */
final class GroupApis {
    /** TxnOffsetCommit of transaction version 1. */
    static final short TXN_OFFSET_COMMIT_MAX_VERSION = 4;

    private static final Logger LOG = LoggerFactory.getLogger(GroupApis.class);

    /** Creates a topic through the coordinator. */
    interface TopicCreator {
        CompletableFuture<CoordinatorResult> create(
                String name, int partitions, short replicationFactor, Map<String, String> configs);
    }

    private final BrokerConfig config;
    private final ClusterView cluster;
    private final GroupCoordinatorService groups;
    private final TopicCreator topics;
    private final AtomicBoolean creatingOffsetsTopic = new AtomicBoolean();

    GroupApis(BrokerConfig config, ClusterView cluster, GroupCoordinatorService groups, TopicCreator topics) {
        this.config = config;
        this.cluster = cluster;
        this.groups = groups;
        this.topics = topics;
    }

    // ---- FindCoordinator ----------------------------------------------------------------------------

    CompletableFuture<AbstractResponse> findCoordinator(FindCoordinatorRequest request) {
        short version = request.version();
        FindCoordinatorRequestData data = request.data();
        boolean batched = version >= FindCoordinatorRequest.MIN_BATCHED_VERSION;
        List<String> keys = batched ? data.coordinatorKeys() : List.of(data.key());
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        List<Coordinator> found = new ArrayList<>();
        for (String key : keys) {
            found.add(locate(data.keyType(), key));
        }
        if (batched) {
            response.setCoordinators(found);
        } else {
            Coordinator only = found.get(0);
            response.setErrorCode(only.errorCode())
                    .setNodeId(only.nodeId())
                    .setHost(only.host())
                    .setPort(only.port());
            if (version >= 1) {
                response.setErrorMessage(only.errorMessage());
            }
        }
        return CompletableFuture.completedFuture(new FindCoordinatorResponse(response));
    }

    private Coordinator locate(byte keyType, String key) {
        Coordinator coordinator =
                new Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1);
        if (keyType != FindCoordinatorRequest.CoordinatorType.GROUP.id()) {
            return unavailable(coordinator, "transaction coordinators are not served yet");
        }
        ClusterImage image = cluster.image();
        TopicInfo topic = image.topic(GroupCoordinatorService.OFFSETS_TOPIC);
        if (topic == null) {
            createOffsetsTopic(image);
            return unavailable(coordinator, GroupCoordinatorService.OFFSETS_TOPIC + " is being created");
        }
        int partition = GroupCoordinatorState.partitionFor(key == null ? "" : key, topic.partitionCount());
        List<Integer> replicas = topic.replicas().get(partition);
        ClusterView.PartitionInfo info = cluster.partition(
                new TopicPartition(GroupCoordinatorService.OFFSETS_TOPIC, partition),
                replicas == null ? List.of() : replicas);
        NodeRegistration leader = info.leader() < 0 ? null : image.node(info.leader());
        if (leader == null || leader.fenced()) {
            return unavailable(
                    coordinator, GroupCoordinatorService.OFFSETS_TOPIC + "-" + partition + " has no leader yet");
        }
        return coordinator
                .setErrorCode(Errors.NONE.code())
                .setNodeId(leader.nodeId())
                .setHost(leader.host())
                .setPort(leader.port());
    }

    private static Coordinator unavailable(Coordinator coordinator, String message) {
        return coordinator.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()).setErrorMessage(message);
    }

    /**
     * Creates {@code __consumer_offsets} once (a second FindCoordinator meanwhile does not ask again). It keeps
     * its records forever ({@code retention.ms=-1}, {@code retention.bytes=-1}): Sluice does not compact yet, and
     * expired offsets and deleted groups leave as tombstones the state machine replays.
     */
    private void createOffsetsTopic(ClusterImage image) {
        if (!creatingOffsetsTopic.compareAndSet(false, true)) {
            return;
        }
        int partitions = config.getInt(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS);
        short replicationFactor = (short) Math.max(
                1,
                Math.min(
                        config.getShort(BrokerConfig.OFFSETS_TOPIC_REPLICATION_FACTOR),
                        image.liveNodes().size()));
        LOG.info(
                "creating {} with {} partitions of {} replicas",
                GroupCoordinatorService.OFFSETS_TOPIC,
                partitions,
                replicationFactor);
        topics.create(
                        GroupCoordinatorService.OFFSETS_TOPIC,
                        partitions,
                        replicationFactor,
                        Map.of(LogConfig.RETENTION_MS, "-1", LogConfig.RETENTION_BYTES, "-1"))
                .whenComplete((result, failure) -> {
                    creatingOffsetsTopic.set(false);
                    if (failure != null) {
                        LOG.warn("cannot create {}", GroupCoordinatorService.OFFSETS_TOPIC, failure);
                    } else if (result.errorCode() != 0 && result.errorCode() != Errors.TOPIC_ALREADY_EXISTS.code()) {
                        LOG.warn("cannot create {}: {}", GroupCoordinatorService.OFFSETS_TOPIC, result.message());
                    }
                });
    }

    // ---- one group per request ------------------------------------------------------------------------

    CompletableFuture<AbstractResponse> joinGroup(RequestContext context, JoinGroupRequest request) {
        short version = request.version();
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.JoinGroup(context(context, handle), request.data()),
                m -> new JoinGroupResponse((JoinGroupResponseData) m, version));
    }

    CompletableFuture<AbstractResponse> syncGroup(RequestContext context, SyncGroupRequest request) {
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.SyncGroup(context(context, handle), request.data()),
                m -> new SyncGroupResponse((SyncGroupResponseData) m));
    }

    CompletableFuture<AbstractResponse> heartbeat(RequestContext context, HeartbeatRequest request) {
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.Heartbeat(context(context, handle), request.data()),
                m -> new HeartbeatResponse((HeartbeatResponseData) m));
    }

    CompletableFuture<AbstractResponse> leaveGroup(RequestContext context, LeaveGroupRequest request) {
        short version = request.version();
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.LeaveGroup(context(context, handle), request.data()),
                m -> new LeaveGroupResponse((LeaveGroupResponseData) m, version));
    }

    /**
     * OffsetCommit; from v10 the topics are named by id only: the ids are resolved to names for the state
     * machine (which echoes the ids), and the partitions of unknown ids answer {@code UNKNOWN_TOPIC_ID}.
     */
    CompletableFuture<AbstractResponse> offsetCommit(RequestContext context, OffsetCommitRequest request) {
        List<OffsetCommitResponseTopic> unknown = new ArrayList<>();
        if (OffsetCommitResponse.useTopicIds(request.version())) {
            ClusterImage image = cluster.image();
            List<OffsetCommitRequestTopic> known = new ArrayList<>();
            for (OffsetCommitRequestTopic topic : request.data().topics()) {
                String name = image.topicName(topic.topicId());
                if (name == null) {
                    OffsetCommitResponseTopic failed = new OffsetCommitResponseTopic().setTopicId(topic.topicId());
                    topic.partitions().forEach(p -> failed.partitions()
                            .add(new OffsetCommitResponsePartition()
                                    .setPartitionIndex(p.partitionIndex())
                                    .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())));
                    unknown.add(failed);
                } else {
                    known.add(topic.setName(name));
                }
            }
            request.data().setTopics(known);
        }
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.OffsetCommit(context(context, handle), request.data()),
                m -> {
                    OffsetCommitResponseData data = (OffsetCommitResponseData) m;
                    data.topics().addAll(unknown);
                    return new OffsetCommitResponse(data);
                });
    }

    /**
     * TxnOffsetCommit: offsets committed in a producer's transaction, pending in the group's offsets partition
     * until the transaction coordinator's marker commits or aborts them there. Up to v4: v5 belongs to
     * transaction version 2, where the request also adds the offsets partition to the transaction.
     */
    CompletableFuture<AbstractResponse> txnOffsetCommit(RequestContext context, TxnOffsetCommitRequest request) {
        if (request.version() > TXN_OFFSET_COMMIT_MAX_VERSION) {
            return CompletableFuture.completedFuture(request.getErrorResponse(Errors.UNSUPPORTED_VERSION.exception()));
        }
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.TxnOffsetCommit(context(context, handle), request.data()),
                m -> new TxnOffsetCommitResponse((TxnOffsetCommitResponseData) m));
    }

    CompletableFuture<AbstractResponse> offsetDelete(RequestContext context, OffsetDeleteRequest request) {
        return oneGroup(
                request,
                request.data().groupId(),
                handle -> new GroupCommand.OffsetDelete(context(context, handle), request.data()),
                m -> new OffsetDeleteResponse((OffsetDeleteResponseData) m));
    }

    private CompletableFuture<AbstractResponse> oneGroup(
            AbstractRequest request,
            String groupId,
            LongFunction<GroupCommand> command,
            Function<Message, AbstractResponse> response) {
        int partition = partitionOf(groupId == null ? "" : groupId);
        if (partition < 0) {
            return CompletableFuture.completedFuture(request.getErrorResponse(Errors.NOT_COORDINATOR.exception()));
        }
        return groups.submit(partition, command)
                .handle((message, failure) ->
                        failure == null ? response.apply(message) : request.getErrorResponse(apiException(failure)));
    }

    // ---- several groups per request -----------------------------------------------------------------

    CompletableFuture<AbstractResponse> offsetFetch(RequestContext context, OffsetFetchRequest request) {
        short version = request.version();
        boolean requireStable = version >= 7 && request.data().requireStable();
        List<CompletableFuture<OffsetFetchResponseGroup>> answers = new ArrayList<>();
        boolean topicIds = OffsetFetchRequest.useTopicIds(version);
        ClusterImage image = cluster.image();
        for (OffsetFetchRequestGroup group : request.groups()) {
            List<OffsetFetchResponseTopics> unknown = topicIds ? resolveTopicIds(group, image) : List.of();
            int partition = partitionOf(group.groupId());
            CompletableFuture<OffsetFetchResponseGroup> answer = partition < 0
                    ? CompletableFuture.completedFuture(
                            OffsetFetchResponse.groupError(group, Errors.NOT_COORDINATOR, version))
                    : groups.submit(
                                    partition,
                                    handle -> new GroupCommand.OffsetFetch(
                                            context(context, handle), group, requireStable))
                            .handle((m, failure) -> failure == null
                                    ? (OffsetFetchResponseGroup) m
                                    : OffsetFetchResponse.groupError(
                                            group, Errors.forException(apiException(failure)), version));
            if (topicIds) {
                answer = answer.thenApply(g -> withTopicIds(g, unknown, image));
            }
            answers.add(answer);
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    List<OffsetFetchResponseGroup> all = new ArrayList<>();
                    answers.forEach(a -> all.add(a.join()));
                    return new OffsetFetchResponse.Builder(all).build(version);
                });
    }

    /** Names the topics a v10+ group names by id; returns the answers for the unknown ids (which it removes). */
    private static List<OffsetFetchResponseTopics> resolveTopicIds(OffsetFetchRequestGroup group, ClusterImage image) {
        if (group.topics() == null) {
            return List.of();
        }
        List<OffsetFetchResponseTopics> unknown = new ArrayList<>();
        List<OffsetFetchRequestTopics> known = new ArrayList<>();
        for (OffsetFetchRequestTopics topic : group.topics()) {
            String name = image.topicName(topic.topicId());
            if (name == null) {
                OffsetFetchResponseTopics failed = new OffsetFetchResponseTopics().setTopicId(topic.topicId());
                topic.partitionIndexes().forEach(p -> failed.partitions()
                        .add(new OffsetFetchResponsePartitions()
                                .setPartitionIndex(p)
                                .setCommittedOffset(-1)
                                .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code())));
                unknown.add(failed);
            } else {
                known.add(topic.setName(name));
            }
        }
        group.setTopics(known);
        return unknown;
    }

    /**
     * A v10+ answer: every topic with its id (an answer for all of a group's offsets names topics only by name;
     * those of deleted topics are left out), plus the answers for unknown ids.
     */
    private static OffsetFetchResponseGroup withTopicIds(
            OffsetFetchResponseGroup group, List<OffsetFetchResponseTopics> unknown, ClusterImage image) {
        List<OffsetFetchResponseTopics> topics = new ArrayList<>();
        for (OffsetFetchResponseTopics topic : group.topics()) {
            if (Uuid.ZERO_UUID.equals(topic.topicId())) {
                TopicInfo info = image.topic(topic.name());
                if (info == null) {
                    continue;
                }
                topic.setTopicId(Uuid.fromString(info.topicId()));
            }
            topics.add(topic);
        }
        topics.addAll(unknown);
        return group.setTopics(topics);
    }

    CompletableFuture<AbstractResponse> describeGroups(RequestContext context, DescribeGroupsRequest request) {
        Map<Integer, List<String>> byPartition = new LinkedHashMap<>();
        Map<String, DescribedGroup> described = new LinkedHashMap<>();
        for (String groupId : request.data().groups()) {
            int partition = partitionOf(groupId == null ? "" : groupId);
            if (partition < 0) {
                described.put(groupId, DescribeGroupsResponse.groupError(groupId, Errors.NOT_COORDINATOR));
            } else {
                byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(groupId);
            }
        }
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        byPartition.forEach((partition, ids) -> pending.add(groups.submit(
                        partition,
                        handle -> new GroupCommand.DescribeGroups(
                                context(context, handle),
                                new DescribeGroupsRequestData()
                                        .setGroups(ids)
                                        .setIncludeAuthorizedOperations(
                                                request.data().includeAuthorizedOperations())))
                .handle((m, failure) -> {
                    synchronized (described) {
                        if (failure == null) {
                            for (DescribedGroup group : ((DescribeGroupsResponseData) m).groups()) {
                                described.put(group.groupId(), group);
                            }
                        } else {
                            Errors error = Errors.forException(apiException(failure));
                            ids.forEach(id -> described.put(id, DescribeGroupsResponse.groupError(id, error)));
                        }
                    }
                    return null;
                })));
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    DescribeGroupsResponseData data = new DescribeGroupsResponseData();
                    synchronized (described) {
                        for (String groupId : request.data().groups()) {
                            DescribedGroup group = described.remove(groupId);
                            if (group != null) {
                                data.groups().add(group);
                            }
                        }
                    }
                    return new DescribeGroupsResponse(data);
                });
    }

    CompletableFuture<AbstractResponse> deleteGroups(RequestContext context, DeleteGroupsRequest request) {
        Map<Integer, List<String>> byPartition = new LinkedHashMap<>();
        Map<String, Short> errors = new LinkedHashMap<>();
        for (String groupId : request.data().groupsNames()) {
            int partition = partitionOf(groupId == null ? "" : groupId);
            if (partition < 0) {
                errors.put(groupId, Errors.NOT_COORDINATOR.code());
            } else {
                byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(groupId);
            }
        }
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        byPartition.forEach((partition, ids) -> pending.add(groups.submit(
                        partition,
                        handle -> new GroupCommand.DeleteGroups(
                                context(context, handle), new DeleteGroupsRequestData().setGroupsNames(ids)))
                .handle((m, failure) -> {
                    synchronized (errors) {
                        if (failure == null) {
                            for (DeletableGroupResult result : ((DeleteGroupsResponseData) m).results()) {
                                errors.put(result.groupId(), result.errorCode());
                            }
                        } else {
                            short code =
                                    Errors.forException(apiException(failure)).code();
                            ids.forEach(id -> errors.put(id, code));
                        }
                    }
                    return null;
                })));
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    DeleteGroupsResponseData data = new DeleteGroupsResponseData();
                    synchronized (errors) {
                        errors.forEach((groupId, code) -> data.results()
                                .add(new DeletableGroupResult()
                                        .setGroupId(groupId)
                                        .setErrorCode(code)));
                    }
                    return new DeleteGroupsResponse(data);
                });
    }

    /**
     * ListGroups, as a Kafka broker answers it: the groups of the offsets partitions this node coordinates;
     * {@code COORDINATOR_LOAD_IN_PROGRESS} while one of them is still loading.
     */
    CompletableFuture<AbstractResponse> listGroups(RequestContext context, ListGroupsRequest request) {
        short version = request.version();
        List<CompletableFuture<Message>> answers = new ArrayList<>();
        for (int partition : groups.coordinatedPartitions()) {
            answers.add(groups.submit(
                    partition, handle -> new GroupCommand.ListGroups(context(context, handle), request.data())));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture<?>[]::new))
                .handle((ignored, failure) -> {
                    ListGroupsResponseData data = new ListGroupsResponseData();
                    for (CompletableFuture<Message> answer : answers) {
                        if (answer.isCompletedExceptionally()) {
                            Errors error = Errors.forException(
                                    apiException(answer.handle((m, f) -> f).join()));
                            if (error == Errors.COORDINATOR_LOAD_IN_PROGRESS) {
                                data.setErrorCode(error.code());
                            }
                            continue;
                        }
                        for (ListedGroup group : ((ListGroupsResponseData) answer.join()).groups()) {
                            ListedGroup listed = new ListedGroup()
                                    .setGroupId(group.groupId())
                                    .setProtocolType(group.protocolType());
                            if (version >= 4) {
                                listed.setGroupState(group.groupState());
                            }
                            if (version >= 5) {
                                listed.setGroupType(group.groupType());
                            }
                            data.groups().add(listed);
                        }
                    }
                    return new ListGroupsResponse(data);
                });
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** The offsets partition of a group, or -1 while the offsets topic does not exist. */
    private int partitionOf(String groupId) {
        TopicInfo topic = cluster.topic(GroupCoordinatorService.OFFSETS_TOPIC);
        return topic == null ? -1 : GroupCoordinatorState.partitionFor(groupId, topic.partitionCount());
    }

    private static GroupCommand.Context context(RequestContext context, long handle) {
        return new GroupCommand.Context(
                handle,
                context.header().apiVersion(),
                context.header().clientId(),
                "/" + context.clientAddress().getAddress().getHostAddress());
    }

    private static ApiException apiException(Throwable failure) {
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof ApiException api) {
            return api;
        }
        LOG.warn("a group request failed", cause);
        return Errors.UNKNOWN_SERVER_ERROR.exception(cause.getMessage());
    }
}
