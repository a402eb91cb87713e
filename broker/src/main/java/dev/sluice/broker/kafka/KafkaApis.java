package dev.sluice.broker.kafka;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.group.GroupCoordinatorService;
import dev.sluice.broker.net.RequestContext;
import dev.sluice.broker.net.RequestHandler;
import dev.sluice.broker.txn.TransactionCoordinatorService;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorCommand;
import dev.sluice.coordinator.CoordinatorResult;
import dev.sluice.coordinator.CoordinatorService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the Kafka APIs a node serves, by API key. Produce, Fetch, ListOffsets, OffsetsForLeaderEpoch and
 * DeleteRecords work on this node's partition replicas ({@link PartitionApis}); Metadata, topic administration and
 * producer ids go through the coordinator; FindCoordinator and the consumer-group APIs go to the groups of the
 * {@code __consumer_offsets} partitions this node leads ({@link GroupApis}). Every request completes asynchronously; none blocks the
 * network threads (coordinator commands complete on Ratis's threads).
 */
public final class KafkaApis implements RequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaApis.class);
    private static final int PRODUCER_ID_BLOCK = 1000;

    private final BrokerConfig config;
    private final ClusterView cluster;
    private final CoordinatorService coordinator;
    private final PartitionApis partitions;
    private final ConfigApis configs;
    private final GroupApis groups;
    private final TransactionApis txns;
    private long nextProducerId;
    private long producerIdBlockEnd;

    public KafkaApis(
            BrokerConfig config,
            ClusterView cluster,
            CoordinatorService coordinator,
            PartitionApis partitions,
            GroupCoordinatorService groupCoordinator,
            TransactionCoordinatorService transactionCoordinator) {
        this.config = config;
        this.cluster = cluster;
        this.coordinator = coordinator;
        this.partitions = partitions;
        this.configs = new ConfigApis(config, cluster, coordinator);
        this.txns = new TransactionApis(cluster, transactionCoordinator);
        this.groups = new GroupApis(
                config,
                cluster,
                groupCoordinator,
                (name, count, replicationFactor, topicConfigs) ->
                        createTopic(name, count, replicationFactor, topicConfigs, null));
    }

    /** The APIs and versions this node serves (advertised in ApiVersions). */
    public static Map<ApiKeys, short[]> supportedApis() {
        Map<ApiKeys, short[]> apis = new HashMap<>();
        for (ApiKeys key : List.of(
                ApiKeys.PRODUCE,
                ApiKeys.FETCH,
                ApiKeys.LIST_OFFSETS,
                ApiKeys.METADATA,
                ApiKeys.OFFSET_FOR_LEADER_EPOCH,
                ApiKeys.DELETE_RECORDS,
                ApiKeys.WRITE_TXN_MARKERS,
                ApiKeys.DESCRIBE_PRODUCERS,
                ApiKeys.INIT_PRODUCER_ID,
                ApiKeys.CREATE_TOPICS,
                ApiKeys.DELETE_TOPICS,
                ApiKeys.CREATE_PARTITIONS,
                ApiKeys.DESCRIBE_CONFIGS,
                ApiKeys.INCREMENTAL_ALTER_CONFIGS,
                ApiKeys.DESCRIBE_CLUSTER,
                ApiKeys.FIND_COORDINATOR,
                ApiKeys.JOIN_GROUP,
                ApiKeys.SYNC_GROUP,
                ApiKeys.HEARTBEAT,
                ApiKeys.LEAVE_GROUP,
                ApiKeys.LIST_GROUPS,
                ApiKeys.DESCRIBE_GROUPS,
                ApiKeys.DELETE_GROUPS,
                ApiKeys.OFFSET_DELETE,
                ApiKeys.OFFSET_COMMIT,
                ApiKeys.OFFSET_FETCH,
                ApiKeys.API_VERSIONS)) {
            apis.put(key, new short[] {key.oldestVersion(), key.latestVersion()});
        }
        // transaction version 1 only (see TransactionApis)
        for (ApiKeys key :
                List.of(ApiKeys.ADD_OFFSETS_TO_TXN, ApiKeys.DESCRIBE_TRANSACTIONS, ApiKeys.LIST_TRANSACTIONS)) {
            apis.put(key, new short[] {key.oldestVersion(), key.latestVersion()});
        }
        apis.put(ApiKeys.ADD_PARTITIONS_TO_TXN, new short[] {
            ApiKeys.ADD_PARTITIONS_TO_TXN.oldestVersion(), TransactionApis.ADD_PARTITIONS_TO_TXN_MAX_VERSION
        });
        apis.put(ApiKeys.END_TXN, new short[] {ApiKeys.END_TXN.oldestVersion(), TransactionApis.END_TXN_MAX_VERSION});
        apis.put(
                ApiKeys.TXN_OFFSET_COMMIT,
                new short[] {ApiKeys.TXN_OFFSET_COMMIT.oldestVersion(), TransactionApis.TXN_OFFSET_COMMIT_MAX_VERSION});
        return apis;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestContext context, AbstractRequest request) {
        return switch (request.apiKey()) {
            case PRODUCE -> partitions.produce(context, (ProduceRequest) request);
            case FETCH -> partitions.fetch(context, (FetchRequest) request);
            case LIST_OFFSETS -> partitions.listOffsets(context, (ListOffsetsRequest) request);
            case OFFSET_FOR_LEADER_EPOCH ->
                partitions.offsetsForLeaderEpoch(context, (OffsetsForLeaderEpochRequest) request);
            case DELETE_RECORDS -> partitions.deleteRecords(context, (DeleteRecordsRequest) request);
            case WRITE_TXN_MARKERS -> partitions.writeTxnMarkers(context, (WriteTxnMarkersRequest) request);
            case DESCRIBE_PRODUCERS -> partitions.describeProducers(context, (DescribeProducersRequest) request);
            case METADATA -> metadata(context, (MetadataRequest) request);
            case INIT_PRODUCER_ID -> initProducerId(context, (InitProducerIdRequest) request);
            case ADD_PARTITIONS_TO_TXN -> txns.addPartitionsToTxn(context, (AddPartitionsToTxnRequest) request);
            case ADD_OFFSETS_TO_TXN -> txns.addOffsetsToTxn(context, (AddOffsetsToTxnRequest) request);
            case END_TXN -> txns.endTxn(context, (EndTxnRequest) request);
            case DESCRIBE_TRANSACTIONS -> txns.describeTransactions(context, (DescribeTransactionsRequest) request);
            case LIST_TRANSACTIONS -> txns.listTransactions(context, (ListTransactionsRequest) request);
            case CREATE_TOPICS -> createTopics((CreateTopicsRequest) request);
            case DELETE_TOPICS -> deleteTopics((DeleteTopicsRequest) request);
            case CREATE_PARTITIONS -> configs.createPartitions((CreatePartitionsRequest) request);
            case DESCRIBE_CONFIGS -> configs.describeConfigs((DescribeConfigsRequest) request);
            case INCREMENTAL_ALTER_CONFIGS -> configs.incrementalAlterConfigs((IncrementalAlterConfigsRequest) request);
            case DESCRIBE_CLUSTER -> describeCluster((DescribeClusterRequest) request);
            case FIND_COORDINATOR -> findCoordinator((FindCoordinatorRequest) request);
            case JOIN_GROUP -> groups.joinGroup(context, (JoinGroupRequest) request);
            case SYNC_GROUP -> groups.syncGroup(context, (SyncGroupRequest) request);
            case HEARTBEAT -> groups.heartbeat(context, (HeartbeatRequest) request);
            case LEAVE_GROUP -> groups.leaveGroup(context, (LeaveGroupRequest) request);
            case OFFSET_COMMIT -> groups.offsetCommit(context, (OffsetCommitRequest) request);
            case TXN_OFFSET_COMMIT -> groups.txnOffsetCommit(context, (TxnOffsetCommitRequest) request);
            case OFFSET_FETCH -> groups.offsetFetch(context, (OffsetFetchRequest) request);
            case OFFSET_DELETE -> groups.offsetDelete(context, (OffsetDeleteRequest) request);
            case LIST_GROUPS -> groups.listGroups(context, (ListGroupsRequest) request);
            case DESCRIBE_GROUPS -> groups.describeGroups(context, (DescribeGroupsRequest) request);
            case DELETE_GROUPS -> groups.deleteGroups(context, (DeleteGroupsRequest) request);
            default ->
                CompletableFuture.failedFuture(new org.apache.kafka.common.errors.UnsupportedVersionException(
                        "this node does not serve " + request.apiKey()));
        };
    }

    // ---- Metadata ---------------------------------------------------------------------------------

    private CompletableFuture<AbstractResponse> metadata(RequestContext context, MetadataRequest request) {
        ClusterImage image = cluster.image();
        List<String> wanted = new ArrayList<>();
        boolean all = request.data().topics() == null;
        if (!all) {
            for (MetadataRequestTopic t : request.data().topics()) {
                if (t.name() != null) {
                    wanted.add(t.name());
                } else if (image.topicName(t.topicId()) != null) {
                    wanted.add(image.topicName(t.topicId()));
                }
            }
        }
        List<CompletableFuture<?>> creations = new ArrayList<>();
        if (!all
                && request.data().allowAutoTopicCreation()
                && config.getBoolean(BrokerConfig.AUTO_CREATE_TOPICS_ENABLE)) {
            for (String name : wanted) {
                if (image.topic(name) == null && dev.sluice.coordinator.ClusterState.invalidTopicName(name) == null) {
                    creations.add(createTopic(name, -1, (short) -1, Map.of(), null));
                }
            }
        }
        CompletableFuture<Void> created = CompletableFuture.allOf(creations.toArray(CompletableFuture<?>[]::new));
        short version = request.version();
        return created.handle((ignored, failure) -> {
            ClusterImage now = cluster.image();
            MetadataResponseData data =
                    new MetadataResponseData().setClusterId(now.clusterId()).setControllerId(controllerId());
            for (NodeRegistration node : now.nodes().values()) {
                if (!node.fenced()) {
                    data.brokers()
                            .add(new MetadataResponseBroker()
                                    .setNodeId(node.nodeId())
                                    .setHost(node.host())
                                    .setPort(node.port())
                                    .setRack(node.rack()));
                }
            }
            List<String> names = all ? new ArrayList<>(now.topics().keySet()) : wanted;
            for (String name : names) {
                data.topics().add(topicMetadata(name, now));
            }
            if (!all) {
                for (MetadataRequestTopic t : request.data().topics()) {
                    if (t.name() == null && t.topicId() != null && !names.contains(now.topicName(t.topicId()))) {
                        data.topics()
                                .add(new MetadataResponseTopic()
                                        .setTopicId(t.topicId())
                                        .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                    }
                }
            }
            return (AbstractResponse) new MetadataResponse(data, version);
        });
    }

    /** Kafka clients send admin requests to the controller; any node serves them here, so it names itself. */
    private int controllerId() {
        return cluster.selfId();
    }

    private MetadataResponseTopic topicMetadata(String name, ClusterImage image) {
        TopicInfo topic = image.topic(name);
        if (topic == null) {
            Errors error = dev.sluice.coordinator.ClusterState.invalidTopicName(name) != null
                    ? Errors.INVALID_TOPIC_EXCEPTION
                    : Errors.UNKNOWN_TOPIC_OR_PARTITION;
            return new MetadataResponseTopic().setName(name).setErrorCode(error.code());
        }
        MetadataResponseTopic result = new MetadataResponseTopic()
                .setName(name)
                .setTopicId(Uuid.fromString(topic.topicId()))
                .setIsInternal(name.startsWith("__"));
        topic.replicas().forEach((partition, replicas) -> {
            ClusterView.PartitionInfo info = cluster.partition(new TopicPartition(name, partition), replicas);
            List<Integer> offline = new ArrayList<>();
            for (int replica : replicas) {
                NodeRegistration node = image.node(replica);
                if (node == null || node.fenced()) {
                    offline.add(replica);
                }
            }
            result.partitions()
                    .add(new MetadataResponsePartition()
                            .setPartitionIndex(partition)
                            .setErrorCode(info.leader() < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                            .setLeaderId(info.leader())
                            .setLeaderEpoch(info.leaderEpoch())
                            .setReplicaNodes(new ArrayList<>(replicas))
                            .setIsrNodes(new ArrayList<>(info.isr().isEmpty() ? List.of() : info.isr()))
                            .setOfflineReplicas(offline));
        });
        return result;
    }

    // ---- topics -----------------------------------------------------------------------------------

    /** Creates a topic through the coordinator and waits until this node's image has it. */
    CompletableFuture<CoordinatorResult> createTopic(
            String name,
            int partitions,
            short replicationFactor,
            Map<String, String> topicConfigs,
            List<List<Integer>> assignment) {
        int count = partitions > 0 ? partitions : config.getInt(BrokerConfig.NUM_PARTITIONS);
        int rf = replicationFactor > 0 ? replicationFactor : config.getShort(BrokerConfig.DEFAULT_REPLICATION_FACTOR);
        return coordinator
                .submit(new CoordinatorCommand.CreateTopic(
                        name, Uuid.randomUuid().toString(), count, rf, topicConfigs, assignment))
                .thenApply(result -> {
                    awaitTopic(name, true);
                    return result;
                });
    }

    private void awaitTopic(String name, boolean present) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((cluster.topic(name) != null) != present && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private CompletableFuture<AbstractResponse> createTopics(CreateTopicsRequest request) {
        CreateTopicsResponseData data = new CreateTopicsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        boolean validateOnly = request.data().validateOnly();
        for (CreatableTopic topic : request.data().topics()) {
            CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
            data.topics().add(result);
            Map<String, String> topicConfigs = new HashMap<>();
            topic.configs().forEach(c -> topicConfigs.put(c.name(), c.value()));
            String invalidConfig = configs.invalidTopicConfigs(topicConfigs);
            if (invalidConfig != null) {
                result.setErrorCode(Errors.INVALID_CONFIG.code()).setErrorMessage(invalidConfig);
                continue;
            }
            List<List<Integer>> assignment = null;
            if (!topic.assignments().isEmpty()) {
                if (topic.numPartitions() != -1 || topic.replicationFactor() != -1) {
                    result.setErrorCode(Errors.INVALID_REQUEST.code())
                            .setErrorMessage(
                                    "Both numPartitions or replicationFactor and replicasAssignments were set.");
                    continue;
                }
                assignment = new ArrayList<>();
                for (var a : topic.assignments()) {
                    while (assignment.size() <= a.partitionIndex()) {
                        assignment.add(List.of());
                    }
                    assignment.set(a.partitionIndex(), new ArrayList<>(a.brokerIds()));
                }
            }
            if (validateOnly) {
                if (cluster.topic(topic.name()) != null) {
                    result.setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code())
                            .setErrorMessage("Topic '" + topic.name() + "' already exists.");
                }
                continue;
            }
            pending.add(createTopic(
                            topic.name(), topic.numPartitions(), topic.replicationFactor(), topicConfigs, assignment)
                    .thenAccept(r -> {
                        result.setErrorCode(r.errorCode()).setErrorMessage(r.message());
                        TopicInfo created = cluster.topic(topic.name());
                        if (r.errorCode() == 0 && created != null) {
                            result.setTopicId(Uuid.fromString(created.topicId()))
                                    .setNumPartitions(created.partitionCount())
                                    .setReplicationFactor(
                                            (short) created.replicas().get(0).size());
                        }
                    }));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> new CreateTopicsResponse(data));
    }

    private CompletableFuture<AbstractResponse> deleteTopics(DeleteTopicsRequest request) {
        DeleteTopicsResponseData data = new DeleteTopicsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        List<DeleteTopicState> states = new ArrayList<>(request.data().topics());
        for (String name : request.data().topicNames()) {
            states.add(new DeleteTopicState().setName(name));
        }
        ClusterImage image = cluster.image();
        for (DeleteTopicState state : states) {
            String name = state.name() != null ? state.name() : image.topicName(state.topicId());
            DeletableTopicResult result =
                    new DeletableTopicResult().setName(name).setTopicId(state.topicId());
            data.responses().add(result);
            if (name == null) {
                result.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
                continue;
            }
            TopicInfo topic = image.topic(name);
            if (topic != null) {
                result.setTopicId(Uuid.fromString(topic.topicId()));
            }
            if (Topic.isInternal(name)) {
                result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
                        .setErrorMessage("topic " + name + " is internal and cannot be deleted (it holds the cluster's"
                                + " consumer groups and their committed offsets)");
                continue;
            }
            pending.add(
                    coordinator.submit(new CoordinatorCommand.DeleteTopic(name)).thenAccept(r -> {
                        result.setErrorCode(r.errorCode()).setErrorMessage(r.message());
                        if (r.errorCode() == 0) {
                            awaitTopic(name, false);
                        }
                    }));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> new DeleteTopicsResponse(data));
    }

    // ---- producer ids -----------------------------------------------------------------------------

    private CompletableFuture<AbstractResponse> findCoordinator(FindCoordinatorRequest request) {
        return request.data().keyType() == FindCoordinatorRequest.CoordinatorType.TRANSACTION.id()
                ? txns.findCoordinator(request)
                : groups.findCoordinator(request);
    }

    /** A transactional producer's goes to the transaction coordinator; an idempotent one's is answered here. */
    private CompletableFuture<AbstractResponse> initProducerId(RequestContext context, InitProducerIdRequest request) {
        if (request.data().transactionalId() != null) {
            return txns.initProducerId(context, request);
        }
        return nextProducerId()
                .thenApply(id -> new InitProducerIdResponse(new InitProducerIdResponseData()
                        .setErrorCode(id < 0 ? Errors.COORDINATOR_NOT_AVAILABLE.code() : Errors.NONE.code())
                        .setProducerId(id)
                        .setProducerEpoch((short) (id < 0 ? -1 : 0))));
    }

    private synchronized CompletableFuture<Long> nextProducerId() {
        if (nextProducerId < producerIdBlockEnd) {
            return CompletableFuture.completedFuture(nextProducerId++);
        }
        return coordinator
                .submit(new CoordinatorCommand.AllocateProducerIds(cluster.selfId(), PRODUCER_ID_BLOCK))
                .thenApply(result -> {
                    if (result.errorCode() != 0) {
                        LOG.warn("cannot allocate producer ids: {}", result.message());
                        return -1L;
                    }
                    synchronized (this) {
                        if (nextProducerId >= producerIdBlockEnd) {
                            nextProducerId = result.value();
                            producerIdBlockEnd = result.value() + PRODUCER_ID_BLOCK;
                        }
                        return nextProducerId++;
                    }
                });
    }

    // ---- cluster ----------------------------------------------------------------------------------

    private CompletableFuture<AbstractResponse> describeCluster(DescribeClusterRequest request) {
        ClusterImage image = cluster.image();
        DescribeClusterResponseData data = new DescribeClusterResponseData()
                .setClusterId(image.clusterId())
                .setControllerId(controllerId());
        for (NodeRegistration node : image.nodes().values()) {
            if (!node.fenced() || request.data().includeFencedBrokers()) {
                data.brokers()
                        .add(new DescribeClusterResponseData.DescribeClusterBroker()
                                .setBrokerId(node.nodeId())
                                .setHost(node.host())
                                .setPort(node.port())
                                .setRack(node.rack())
                                .setIsFenced(node.fenced()));
            }
        }
        return CompletableFuture.completedFuture(new DescribeClusterResponse(data));
    }
}
