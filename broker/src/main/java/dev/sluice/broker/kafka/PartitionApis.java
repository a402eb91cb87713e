package dev.sluice.broker.kafka;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.http.PartitionMetrics;
import dev.sluice.broker.net.RequestContext;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.ProducerStateEntry;
import dev.sluice.partitionstore.TimestampAndOffset;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.DeleteOutcome;
import dev.sluice.raft.PartitionStateMachine;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import dev.sluice.raft.VerificationGuard;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequest;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.message.FetchRequestData.FetchPartition;
import org.apache.kafka.common.message.FetchRequestData.FetchTopic;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteRecordsResponse;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.DescribeProducersResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition APIs: Produce submits to the local Raft division of each partition this node leads;
 * Fetch reads the segment bytes below the high watermark (or last stable offset) straight from the
 * mapped files and waits, up to {@code fetch.max.wait.ms}, for {@code fetch.min.bytes}; ListOffsets and
 * OffsetsForLeaderEpoch answer from the leader's log; DeleteRecords submits a Raft entry that moves the
 * log start offset on every replica. A partition this node does not lead is answered {@code
 * NOT_LEADER_OR_FOLLOWER}, a partition nobody has {@code UNKNOWN_TOPIC_OR_PARTITION}. The transaction
 * admin APIs: DescribeProducers answers from the leader's producer state, WriteTxnMarkers writes markers
 * through each partition's Raft group from any node.
 */
public final class PartitionApis {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionApis.class);

    private final BrokerConfig config;
    private final ClusterView cluster;
    private final RaftNode raft;
    private final ScheduledExecutorService timer;
    private final PartitionMetrics metrics;
    private final Map<TopicPartition, Set<DelayedFetch>> waiting = new ConcurrentHashMap<>();
    private volatile TransactionVerifier transactionVerifier = TransactionVerifier.ALLOW;
    /** The last transactional append of each producer on each partition, completed once submitted to Raft. */
    private final Map<ProducerOnPartition, CompletableFuture<Void>> transactionalAppends = new ConcurrentHashMap<>();

    private final Set<TopicPartition> watched = ConcurrentHashMap.newKeySet();

    public PartitionApis(
            BrokerConfig config,
            ClusterView cluster,
            RaftNode raft,
            ScheduledExecutorService timer,
            PartitionMetrics metrics) {
        this.config = config;
        this.cluster = cluster;
        this.raft = raft;
        this.timer = timer;
        this.metrics = metrics;
    }

    // ---- Produce ----------------------------------------------------------------------------------

    /**
     * The check a transactional produce needs from the transaction coordinator before its batches are
     * appended (KIP-890: the partition asks whether {@code producerId} at {@code producerEpoch} has an
     * ongoing transaction of {@code transactionalId} that includes {@code tp}, and for Produce v12 and
     * later, adds the partition to it). Answers {@code NONE} to append, else the error the partition
     * answers ({@code INVALID_TXN_STATE}, {@code INVALID_PRODUCER_EPOCH}, ...). Until the coordinator
     * provides one, {@link #ALLOW} lets every transactional batch open its transaction on the partition.
     */
    @FunctionalInterface
    public interface TransactionVerifier {
        TransactionVerifier ALLOW =
                (transactionalId, producerId, producerEpoch, tp) -> CompletableFuture.completedFuture(Errors.NONE);

        CompletableFuture<Errors> verify(
                String transactionalId, long producerId, short producerEpoch, TopicPartition tp);
    }

    /** Installs the transaction coordinator's check of transactional produces (see {@link TransactionVerifier}). */
    public void setTransactionVerifier(TransactionVerifier verifier) {
        this.transactionVerifier = verifier == null ? TransactionVerifier.ALLOW : verifier;
    }

    CompletableFuture<AbstractResponse> produce(RequestContext context, ProduceRequest request) {
        short acks = request.acks();
        if (request.transactionalId() == null && RequestUtils.hasTransactionalRecords(request)) {
            // Kafka refuses the whole request: a transactional batch needs a transactional id to be authorized.
            return CompletableFuture.completedFuture(
                    acks == 0
                            ? null
                            : request.getErrorResponse(0, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.exception()));
        }
        // Kafka answers REQUEST_TIMED_OUT when the replication an acks=all/1 produce waits for takes longer
        // than the request's timeout; the producer then retries (idempotence removes the duplicate).
        long timeoutMs = Math.max(1, request.timeout());
        ProduceResponseData data = new ProduceResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        ClusterImage image = cluster.image();
        for (TopicProduceData topicData : request.data().topicData()) {
            String name = topicData.name();
            if ((name == null || name.isEmpty()) && topicData.topicId() != null) {
                name = image.topicName(topicData.topicId());
            }
            TopicProduceResponse topicResponse =
                    new TopicProduceResponse().setName(topicData.name()).setTopicId(topicData.topicId());
            data.responses().add(topicResponse);
            for (PartitionProduceData partitionData : topicData.partitionData()) {
                PartitionProduceResponse response = new PartitionProduceResponse()
                        .setIndex(partitionData.index())
                        .setBaseOffset(-1)
                        .setLogAppendTimeMs(-1)
                        .setLogStartOffset(-1);
                topicResponse.partitionResponses().add(response);
                if (acks != 0 && acks != 1 && acks != -1) {
                    response.setErrorCode(Errors.INVALID_REQUIRED_ACKS.code());
                    continue;
                }
                if (name == null) {
                    response.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
                    continue;
                }
                if (Topic.isInternal(name)) {
                    // only the group coordinator writes its records there (as Kafka refuses clients' appends)
                    response.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code());
                    if (request.version() >= 8) {
                        response.setErrorMessage("Cannot append to internal topic " + name);
                    }
                    continue;
                }
                TopicPartition tp = new TopicPartition(name, partitionData.index());
                Errors leaderError = leaderError(image, tp);
                if (leaderError != Errors.NONE) {
                    response.setErrorCode(leaderError.code());
                    if (request.version() >= 10) {
                        setCurrentLeader(response, tp);
                    }
                    continue;
                }
                TopicInfo topic = image.topic(name);
                if (acks == -1) {
                    ReplicaStatus status = raft.status(tp);
                    int minIsr = config.minInsyncReplicas(topic.configs());
                    if (status != null && status.inSyncReplicas().size() < minIsr) {
                        response.setErrorCode(Errors.NOT_ENOUGH_REPLICAS.code());
                        if (request.version() >= 8) {
                            response.setErrorMessage("in-sync replicas " + status.inSyncReplicas() + " are fewer than "
                                    + "min.insync.replicas=" + minIsr);
                        }
                        continue;
                    }
                }
                ByteBuffer records =
                        ((MemoryRecords) partitionData.records()).buffer().duplicate();
                short version = request.version();
                int bytes = records.remaining();
                long submittedNs = System.nanoTime();
                pending.add(verifyThenAppend(request.transactionalId(), tp, records)
                        .completeOnTimeout(
                                AppendOutcome.error(
                                        Errors.REQUEST_TIMED_OUT,
                                        tp + ": not committed within the request's timeout of " + timeoutMs + " ms"),
                                timeoutMs,
                                TimeUnit.MILLISECONDS)
                        .thenAccept(outcome -> {
                            if (outcome.error() == Errors.REQUEST_TIMED_OUT) {
                                LOG.warn("{}: produce not committed within {} ms", tp, timeoutMs);
                            }
                            if (outcome.succeeded()) {
                                metrics.committed(System.nanoTime() - submittedNs);
                                metrics.produced(tp.topic(), bytes);
                            }
                            fill(response, outcome, version);
                            if (outcome.error() == Errors.NOT_LEADER_OR_FOLLOWER && version >= 10) {
                                setCurrentLeader(response, tp);
                            }
                        }));
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new));
        if (acks == 0) {
            return all.handle((ignored, failure) -> null);
        }
        return all.handle((ignored, failure) -> {
            if (request.version() >= 10) {
                addProduceEndpoints(data);
            }
            return new ProduceResponse(data);
        });
    }

    /**
     * Appends a client's batches, after the transaction coordinator's check when they are transactional.
     *
     * <p>The transactional batches of one producer on one partition reach Raft in the order they arrived, even
     * though only some of them wait for the coordinator: a producer pipelines up to five batches per partition,
     * and one appended ahead of an earlier one still being checked would break its sequence order
     * ({@code OUT_OF_ORDER_SEQUENCE_NUMBER}). Kafka gets this order from handling one request of a connection at
     * a time; here each batch waits until the previous one of its producer and partition has been submitted.
     */
    private CompletableFuture<AppendOutcome> verifyThenAppend(
            String transactionalId, TopicPartition tp, ByteBuffer records) {
        RecordBatch first = firstBatch(records);
        if (transactionalId == null || first == null || !first.isTransactional()) {
            return raft.append(tp, records, BatchValidator.Origin.CLIENT);
        }
        ProducerOnPartition key = new ProducerOnPartition(tp, first.producerId());
        CompletableFuture<Void> submitted = new CompletableFuture<>();
        CompletableFuture<Void> previous = transactionalAppends.put(key, submitted);
        submitted.whenComplete((ignored, failure) -> transactionalAppends.remove(key, submitted));
        CompletableFuture<AppendOutcome> outcome = new CompletableFuture<>();
        (previous == null ? CompletableFuture.<Void>completedFuture(null) : previous)
                .whenComplete((ignored, failure) -> {
                    CompletableFuture<Errors> check;
                    // Taken before the coordinator is asked: a marker that ends the transaction it vouches for
                    // lands at or after it, and the replicas then refuse the batch (a late one).
                    VerificationGuard guard = verificationGuard(tp);
                    try {
                        check = transactionVerifier.verify(
                                transactionalId, first.producerId(), first.producerEpoch(), tp);
                    } catch (RuntimeException e) {
                        check = CompletableFuture.failedFuture(e);
                    }
                    check.whenComplete((error, checkFailure) -> {
                        try {
                            if (checkFailure != null || error != Errors.NONE) {
                                Errors refused = checkFailure != null ? Errors.NOT_ENOUGH_REPLICAS : error;
                                outcome.complete(AppendOutcome.error(
                                        refused,
                                        "transactional id " + transactionalId + " cannot write to " + tp + ": "
                                                + (checkFailure != null
                                                        ? checkFailure.toString()
                                                        : refused.message())));
                                return;
                            }
                            raft.append(tp, records, BatchValidator.Origin.CLIENT, guard)
                                    .whenComplete((appended, appendFailure) -> {
                                        if (appendFailure != null) {
                                            outcome.completeExceptionally(appendFailure);
                                        } else {
                                            outcome.complete(appended);
                                        }
                                    });
                        } catch (RuntimeException e) {
                            outcome.completeExceptionally(e);
                        } finally {
                            submitted.complete(null);
                        }
                    });
                });
        return outcome;
    }

    private VerificationGuard verificationGuard(TopicPartition tp) {
        try {
            PartitionStateMachine partition = raft.stateMachine(tp);
            return partition == null ? null : partition.verificationGuard();
        } catch (RuntimeException e) {
            return null; // no replica here: the append answers NOT_LEADER_OR_FOLLOWER
        }
    }

    /** A producer's transactional appends to one partition, kept in arrival order. */
    private record ProducerOnPartition(TopicPartition tp, long producerId) {}

    private static RecordBatch firstBatch(ByteBuffer records) {
        try {
            var batches =
                    MemoryRecords.readableRecords(records.duplicate()).batches().iterator();
            return batches.hasNext() ? batches.next() : null;
        } catch (RuntimeException e) {
            return null; // malformed: the log's validation answers it
        }
    }

    /** KIP-951: the address of every leader named in a not-leader answer, so no metadata refresh is needed. */
    private void addProduceEndpoints(ProduceResponseData data) {
        Set<Integer> leaders = new TreeSet<>();
        data.responses().forEach(t -> t.partitionResponses().forEach(p -> {
            if (p.currentLeader() != null && p.currentLeader().leaderId() >= 0) {
                leaders.add(p.currentLeader().leaderId());
            }
        }));
        for (int id : leaders) {
            NodeRegistration node = cluster.image().node(id);
            if (node != null) {
                data.nodeEndpoints()
                        .add(new ProduceResponseData.NodeEndpoint()
                                .setNodeId(id)
                                .setHost(node.host())
                                .setPort(node.port())
                                .setRack(node.rack()));
            }
        }
    }

    /** Fills a partition's answer with the fields its version has (a field a version lacks must stay default). */
    private static void fill(PartitionProduceResponse response, AppendOutcome outcome, short version) {
        response.setErrorCode(outcome.error().code());
        if (outcome.succeeded()) {
            response.setBaseOffset(outcome.firstOffset());
            if (version >= 2) {
                response.setLogAppendTimeMs(outcome.logAppendTimeMs());
            }
            if (version >= 5) {
                response.setLogStartOffset(outcome.logStartOffset());
            }
        } else if (version >= 8) {
            response.setErrorMessage(outcome.errorMessage());
        }
    }

    private void setCurrentLeader(PartitionProduceResponse response, TopicPartition tp) {
        TopicInfo topic = cluster.topic(tp.topic());
        if (topic == null || !topic.replicas().containsKey(tp.partition())) {
            return;
        }
        ClusterView.PartitionInfo info = cluster.partition(tp, topic.replicas().get(tp.partition()));
        if (info.leader() >= 0) {
            response.setCurrentLeader(new ProduceResponseData.LeaderIdAndEpoch()
                    .setLeaderId(info.leader())
                    .setLeaderEpoch(info.leaderEpoch()));
        }
    }

    /** NONE when this node leads the partition, else the error a client should see. */
    private Errors leaderError(ClusterImage image, TopicPartition tp) {
        TopicInfo topic = image.topic(tp.topic());
        if (topic == null || !topic.replicas().containsKey(tp.partition())) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        ReplicaStatus status = raft.status(tp);
        if (status == null || !status.isLeader()) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        return Errors.NONE;
    }

    // ---- Fetch ------------------------------------------------------------------------------------

    /** A fetch waiting for data: completes when enough bytes are there or its time is up. */
    private final class DelayedFetch {
        final RequestContext context;
        final FetchRequest request;
        final CompletableFuture<AbstractResponse> result = new CompletableFuture<>();
        final List<TopicPartition> partitions = new ArrayList<>();

        DelayedFetch(RequestContext context, FetchRequest request) {
            this.context = context;
            this.request = request;
        }

        void tryComplete(boolean expired) {
            if (result.isDone()) {
                return;
            }
            FetchOutcome outcome = read(request);
            if (expired || outcome.bytes >= request.minBytes() || outcome.hasError) {
                if (result.complete(FetchResponse.of(outcome.data))) {
                    recordFetched(outcome);
                    for (TopicPartition tp : partitions) {
                        Set<DelayedFetch> set = waiting.get(tp);
                        if (set != null) {
                            set.remove(this);
                        }
                    }
                }
            }
        }
    }

    /** What a read found; {@code bytesByTopic} is null when it found no records. */
    private record FetchOutcome(FetchResponseData data, long bytes, boolean hasError, Map<String, Long> bytesByTopic) {}

    /** Counts the bytes of a fetch response that is sent (a delayed fetch may read several times). */
    private void recordFetched(FetchOutcome outcome) {
        if (outcome.bytesByTopic != null) {
            outcome.bytesByTopic.forEach(metrics::fetched);
        }
    }

    CompletableFuture<AbstractResponse> fetch(RequestContext context, FetchRequest request) {
        if (request.isFromFollower()) {
            FetchResponseData data = new FetchResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code());
            return CompletableFuture.completedFuture(FetchResponse.of(data));
        }
        FetchOutcome outcome = read(request);
        if (request.maxWait() <= 0 || outcome.bytes >= request.minBytes() || outcome.hasError) {
            recordFetched(outcome);
            return CompletableFuture.completedFuture(FetchResponse.of(outcome.data));
        }
        DelayedFetch delayed = new DelayedFetch(context, request);
        ClusterImage image = cluster.image();
        for (FetchTopic topic : request.data().topics()) {
            String name = topic.topic() != null && !topic.topic().isEmpty()
                    ? topic.topic()
                    : image.topicName(topic.topicId());
            if (name == null) {
                continue;
            }
            for (FetchPartition p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(name, p.partition());
                delayed.partitions.add(tp);
                watch(tp);
                waiting.computeIfAbsent(tp, k -> ConcurrentHashMap.newKeySet()).add(delayed);
            }
        }
        delayed.tryComplete(false);
        timer.schedule(() -> delayed.tryComplete(true), request.maxWait(), TimeUnit.MILLISECONDS);
        return delayed.result;
    }

    /** Registers a high-watermark listener on a local replica once, to wake fetches waiting on it. */
    private void watch(TopicPartition tp) {
        if (watched.contains(tp)) {
            return;
        }
        PartitionStateMachine stateMachine = raft.stateMachine(tp);
        if (stateMachine != null && watched.add(tp)) {
            stateMachine.onHighWatermarkChange(() -> {
                Set<DelayedFetch> set = waiting.get(tp);
                if (set != null && !set.isEmpty()) {
                    timer.execute(() -> List.copyOf(set).forEach(f -> f.tryComplete(false)));
                }
            });
        }
    }

    /** Forgets the listener of a partition whose replica left this node. */
    public void forget(TopicPartition tp) {
        watched.remove(tp);
    }

    private FetchOutcome read(FetchRequest request) {
        FetchResponseData data = new FetchResponseData().setSessionId(0);
        long remaining = request.maxBytes();
        long bytes = 0;
        Map<String, Long> bytesByTopic = null;
        boolean hasError = false;
        boolean readCommitted = request.isolationLevel() == IsolationLevel.READ_COMMITTED;
        ClusterImage image = cluster.image();
        for (FetchTopic topic : request.data().topics()) {
            boolean byId = topic.topic() == null || topic.topic().isEmpty();
            String name = byId ? image.topicName(topic.topicId()) : topic.topic();
            FetchableTopicResponse topicResponse =
                    new FetchableTopicResponse().setTopic(topic.topic()).setTopicId(topic.topicId());
            data.responses().add(topicResponse);
            for (FetchPartition p : topic.partitions()) {
                FetchResponseData.PartitionData partition = new FetchResponseData.PartitionData()
                        .setPartitionIndex(p.partition())
                        .setHighWatermark(FetchResponse.INVALID_HIGH_WATERMARK)
                        .setLastStableOffset(FetchResponse.INVALID_LAST_STABLE_OFFSET)
                        .setLogStartOffset(FetchResponse.INVALID_LOG_START_OFFSET)
                        .setRecords(MemoryRecords.EMPTY);
                topicResponse.partitions().add(partition);
                if (name == null) {
                    partition.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
                    hasError = true;
                    continue;
                }
                TopicPartition tp = new TopicPartition(name, p.partition());
                Errors leaderError = leaderError(image, tp);
                PartitionStateMachine stateMachine = leaderError == Errors.NONE ? raft.stateMachine(tp) : null;
                PartitionLog log = stateMachine == null ? null : stateMachine.log();
                if (log == null) {
                    Errors error = leaderError == Errors.NONE ? Errors.NOT_LEADER_OR_FOLLOWER : leaderError;
                    partition.setErrorCode(error.code());
                    if (error == Errors.NOT_LEADER_OR_FOLLOWER && request.version() >= 12) {
                        setCurrentLeader(partition, image, tp, request.version() >= 16 ? data : null);
                    }
                    hasError = true;
                    continue;
                }
                ReplicaStatus status = raft.status(tp);
                Errors epochError = checkEpoch(p.currentLeaderEpoch(), status);
                if (epochError != Errors.NONE) {
                    partition.setErrorCode(epochError.code());
                    hasError = true;
                    continue;
                }
                long highWatermark = stateMachine.highWatermark();
                long lastStable = stateMachine.lastStableOffset();
                long maxOffset = readCommitted ? lastStable : highWatermark;
                partition
                        .setHighWatermark(highWatermark)
                        .setLastStableOffset(lastStable)
                        .setLogStartOffset(log.logStartOffset());
                if (readCommitted) {
                    partition.setAbortedTransactions(new ArrayList<>()); // Kafka: empty, not absent
                }
                if (p.fetchOffset() > highWatermark && p.fetchOffset() <= log.logEndOffset()) {
                    continue; // a follower-visible but uncommitted position: nothing to return yet
                }
                if (remaining <= 0 || p.fetchOffset() == maxOffset) {
                    continue;
                }
                int maxBytes = (int) Math.min(p.partitionMaxBytes(), remaining);
                LogReadResult read = log.read(p.fetchOffset(), Math.max(1, maxBytes), maxOffset);
                if (read.error() != Errors.NONE) {
                    partition.setErrorCode(read.error().code());
                    hasError = true;
                    continue;
                }
                if (read.sizeInBytes() > 0) {
                    if (readCommitted) {
                        partition.setAbortedTransactions(abortedTransactions(stateMachine, p.fetchOffset(), read));
                    }
                    partition.setRecords(read.memoryRecords());
                    remaining -= read.sizeInBytes();
                    bytes += read.sizeInBytes();
                    if (bytesByTopic == null) {
                        bytesByTopic = new HashMap<>();
                    }
                    bytesByTopic.merge(name, (long) read.sizeInBytes(), Long::sum);
                }
            }
        }
        return new FetchOutcome(data, bytes, hasError, bytesByTopic);
    }

    /**
     * Kafka's aborted transactions for a read_committed fetch from {@code fetchOffset}: those of the
     * partition's index whose ABORT marker is at or after the fetch offset and whose first offset is below
     * the end of the returned batches; the consumer drops their records.
     */
    private static List<FetchResponseData.AbortedTransaction> abortedTransactions(
            PartitionStateMachine stateMachine, long fetchOffset, LogReadResult read) {
        long upperBound = fetchOffset;
        for (RecordBatch batch : read.memoryRecords().batches()) {
            upperBound = batch.nextOffset();
        }
        List<FetchResponseData.AbortedTransaction> result = new ArrayList<>();
        for (var txn : stateMachine.abortedTransactions(fetchOffset, upperBound)) {
            result.add(new FetchResponseData.AbortedTransaction()
                    .setProducerId(txn.producerId())
                    .setFirstOffset(txn.firstOffset()));
        }
        return result;
    }

    /**
     * KIP-951 for Fetch: the partition's current leader (v12+) and, when {@code endpoints} is given (v16+),
     * that leader's address in the response's node endpoints.
     */
    private void setCurrentLeader(
            FetchResponseData.PartitionData partition,
            ClusterImage image,
            TopicPartition tp,
            FetchResponseData endpoints) {
        TopicInfo topic = image.topic(tp.topic());
        if (topic == null || !topic.replicas().containsKey(tp.partition())) {
            return;
        }
        ClusterView.PartitionInfo info = cluster.partition(tp, topic.replicas().get(tp.partition()));
        if (info.leader() < 0) {
            return;
        }
        partition.setCurrentLeader(new FetchResponseData.LeaderIdAndEpoch()
                .setLeaderId(info.leader())
                .setLeaderEpoch(info.leaderEpoch()));
        NodeRegistration node = image.node(info.leader());
        if (endpoints != null && node != null && endpoints.nodeEndpoints().find(info.leader()) == null) {
            endpoints
                    .nodeEndpoints()
                    .add(new FetchResponseData.NodeEndpoint()
                            .setNodeId(info.leader())
                            .setHost(node.host())
                            .setPort(node.port())
                            .setRack(node.rack()));
        }
    }

    private static Errors checkEpoch(int requested, ReplicaStatus status) {
        if (requested < 0 || status == null) {
            return Errors.NONE;
        }
        if (requested < status.leaderEpoch()) {
            return Errors.FENCED_LEADER_EPOCH;
        }
        if (requested > status.leaderEpoch()) {
            return Errors.UNKNOWN_LEADER_EPOCH;
        }
        return Errors.NONE;
    }

    // ---- ListOffsets ------------------------------------------------------------------------------

    CompletableFuture<AbstractResponse> listOffsets(RequestContext context, ListOffsetsRequest request) {
        ListOffsetsResponseData data = new ListOffsetsResponseData();
        ClusterImage image = cluster.image();
        boolean readCommitted = request.data().isolationLevel() == IsolationLevel.READ_COMMITTED.id();
        boolean withEpoch = request.version() >= 4;
        for (ListOffsetsTopic topic : request.data().topics()) {
            ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse().setName(topic.name());
            data.topics().add(topicResponse);
            for (ListOffsetsPartition p : topic.partitions()) {
                ListOffsetsPartitionResponse response = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex())
                        .setTimestamp(-1)
                        .setOffset(-1)
                        .setLeaderEpoch(-1);
                topicResponse.partitions().add(response);
                TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                Errors leaderError = leaderError(image, tp);
                PartitionStateMachine stateMachine = leaderError == Errors.NONE ? raft.stateMachine(tp) : null;
                if (stateMachine == null || stateMachine.log() == null) {
                    response.setErrorCode(
                            (leaderError == Errors.NONE ? Errors.NOT_LEADER_OR_FOLLOWER : leaderError).code());
                    continue;
                }
                ReplicaStatus status = raft.status(tp);
                Errors epochError = checkEpoch(p.currentLeaderEpoch(), status);
                if (epochError != Errors.NONE) {
                    response.setErrorCode(epochError.code());
                    continue;
                }
                PartitionLog log = stateMachine.log();
                long bound = readCommitted ? stateMachine.lastStableOffset() : stateMachine.highWatermark();
                long timestamp = p.timestamp();
                if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
                    response.setOffset(bound).setLeaderEpoch(withEpoch ? epochAt(log, bound) : -1);
                } else if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP
                        || timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
                    response.setOffset(log.logStartOffset())
                            .setLeaderEpoch(withEpoch ? epochAt(log, log.logStartOffset()) : -1);
                } else if (timestamp == ListOffsetsRequest.MAX_TIMESTAMP) {
                    TimestampAndOffset max = log.maxTimestampAndOffset();
                    if (max != null && max.offset() < bound) {
                        response.setTimestamp(max.timestamp())
                                .setOffset(max.offset())
                                .setLeaderEpoch(max.leaderEpoch());
                    }
                } else if (timestamp == ListOffsetsRequest.LATEST_TIERED_TIMESTAMP
                        || timestamp == ListOffsetsRequest.EARLIEST_PENDING_UPLOAD_TIMESTAMP) {
                    response.setOffset(-1);
                } else if (timestamp < 0) {
                    response.setErrorCode(Errors.INVALID_REQUEST.code());
                } else {
                    TimestampAndOffset found = log.offsetForTimestamp(timestamp);
                    if (found != null && found.offset() < bound) {
                        response.setTimestamp(found.timestamp())
                                .setOffset(found.offset())
                                .setLeaderEpoch(found.leaderEpoch());
                    }
                }
            }
        }
        return CompletableFuture.completedFuture(new ListOffsetsResponse(data));
    }

    private static int epochAt(PartitionLog log, long offset) {
        var floor = log.leaderEpochs().entrySet().stream()
                .filter(e -> e.getValue() <= offset)
                .reduce((a, b) -> b);
        return floor.map(Map.Entry::getKey).orElse(-1);
    }

    // ---- DeleteRecords ----------------------------------------------------------------------------

    /**
     * Kafka's DeleteRecords: one Raft entry per partition this node leads, which every replica applies by
     * moving its log start offset (see {@link RaftNode#deleteRecords}). A partition whose entry is not
     * applied here within the request's {@code timeoutMs} is answered {@code REQUEST_TIMED_OUT}; the entry
     * may still take effect, as with Kafka when followers are slow. Every response field exists in every
     * version (0-2), so no field needs a version check.
     */
    CompletableFuture<AbstractResponse> deleteRecords(RequestContext context, DeleteRecordsRequest request) {
        DeleteRecordsResponseData data = new DeleteRecordsResponseData();
        ClusterImage image = cluster.image();
        long timeoutMs = Math.max(0, request.data().timeoutMs());
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (DeleteRecordsTopic topic : request.data().topics()) {
            DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(topic.name());
            data.topics().add(topicResult);
            for (DeleteRecordsPartition p : topic.partitions()) {
                DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult()
                        .setPartitionIndex(p.partitionIndex())
                        .setLowWatermark(DeleteRecordsResponse.INVALID_LOW_WATERMARK);
                topicResult.partitions().add(result);
                TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                if (Topic.isInternal(topic.name())) {
                    result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code());
                    continue;
                }
                Errors leaderError = leaderError(image, tp);
                if (leaderError != Errors.NONE) {
                    result.setErrorCode(leaderError.code());
                    continue;
                }
                pending.add(raft.deleteRecords(tp, p.offset())
                        .completeOnTimeout(
                                DeleteOutcome.error(Errors.REQUEST_TIMED_OUT, tp + ": not applied within the timeout"),
                                timeoutMs,
                                TimeUnit.MILLISECONDS)
                        .thenAccept(outcome -> {
                            result.setErrorCode(outcome.error().code());
                            if (outcome.succeeded()) {
                                result.setLowWatermark(outcome.lowWatermark());
                            }
                        }));
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .handle((ignored, failure) -> new DeleteRecordsResponse(data));
    }

    // ---- OffsetsForLeaderEpoch --------------------------------------------------------------------

    CompletableFuture<AbstractResponse> offsetsForLeaderEpoch(
            RequestContext context, OffsetsForLeaderEpochRequest request) {
        OffsetForLeaderEpochResponseData data = new OffsetForLeaderEpochResponseData();
        ClusterImage image = cluster.image();
        for (OffsetForLeaderTopic topic : request.data().topics()) {
            OffsetForLeaderTopicResult topicResult = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            data.topics().add(topicResult);
            for (OffsetForLeaderPartition p : topic.partitions()) {
                EpochEndOffset result = new EpochEndOffset()
                        .setPartition(p.partition())
                        .setLeaderEpoch(-1)
                        .setEndOffset(-1);
                topicResult.partitions().add(result);
                TopicPartition tp = new TopicPartition(topic.topic(), p.partition());
                Errors leaderError = leaderError(image, tp);
                PartitionStateMachine stateMachine = leaderError == Errors.NONE ? raft.stateMachine(tp) : null;
                if (stateMachine == null || stateMachine.log() == null) {
                    result.setErrorCode(
                            (leaderError == Errors.NONE ? Errors.NOT_LEADER_OR_FOLLOWER : leaderError).code());
                    continue;
                }
                Errors epochError = checkEpoch(p.currentLeaderEpoch(), raft.status(tp));
                if (epochError != Errors.NONE) {
                    result.setErrorCode(epochError.code());
                    continue;
                }
                PartitionLog.EpochEndOffset end = stateMachine.log().endOffsetForEpoch(p.leaderEpoch());
                long endOffset =
                        end.endOffset() < 0 ? end.endOffset() : Math.min(end.endOffset(), stateMachine.highWatermark());
                result.setLeaderEpoch(end.leaderEpoch()).setEndOffset(endOffset);
            }
        }
        return CompletableFuture.completedFuture(new OffsetsForLeaderEpochResponse(data));
    }

    // ---- WriteTxnMarkers --------------------------------------------------------------------------

    /** How long one partition's marker may take before the partition is answered {@code REQUEST_TIMED_OUT}. */
    static final long TXN_MARKER_TIMEOUT_MS = 15_000;

    /**
     * Kafka's WriteTxnMarkers, as {@code Admin.abortTransaction} sends it to abort a hanging transaction:
     * each COMMIT or ABORT marker is written into each named partition through the partition's Raft group
     * ({@link RaftNode#writeTxnMarker}), so any node serves it, leader of the partition or not. Each
     * partition is answered with the outcome of its marker: {@code UNKNOWN_TOPIC_OR_PARTITION} when the
     * cluster has no such partition; {@code INVALID_PRODUCER_EPOCH} when the producer already writes with a
     * newer epoch there; {@code TRANSACTION_COORDINATOR_FENCED} when a marker of a newer coordinator epoch
     * was written there; {@code NOT_LEADER_OR_FOLLOWER} when the group had no leader in time; {@code
     * REQUEST_TIMED_OUT} after {@value #TXN_MARKER_TIMEOUT_MS} ms. A marker in a {@code __consumer_offsets}
     * partition ends its pending transactional offsets, as the coordinator's own markers do. Every response
     * field exists in every version (1-2); v2's transaction version changes nothing here.
     */
    CompletableFuture<AbstractResponse> writeTxnMarkers(RequestContext context, WriteTxnMarkersRequest request) {
        WriteTxnMarkersResponseData data = new WriteTxnMarkersResponseData();
        ClusterImage image = cluster.image();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (WritableTxnMarker marker : request.data().markers()) {
            WritableTxnMarkerResult markerResult = new WritableTxnMarkerResult().setProducerId(marker.producerId());
            data.markers().add(markerResult);
            TransactionResult result = TransactionResult.forId(marker.transactionResult());
            for (WritableTxnMarkerTopic topic : marker.topics()) {
                WritableTxnMarkerTopicResult topicResult = new WritableTxnMarkerTopicResult().setName(topic.name());
                markerResult.topics().add(topicResult);
                for (int partition : topic.partitionIndexes()) {
                    WritableTxnMarkerPartitionResult partitionResult =
                            new WritableTxnMarkerPartitionResult().setPartitionIndex(partition);
                    topicResult.partitions().add(partitionResult);
                    TopicPartition tp = new TopicPartition(topic.name(), partition);
                    List<Integer> replicas = image.replicas(tp);
                    if (replicas == null) {
                        partitionResult.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                        continue;
                    }
                    var peers = image.peers(replicas);
                    if (peers == null) {
                        partitionResult.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()); // a replica unregistered
                        continue;
                    }
                    pending.add(raft.writeTxnMarker(
                                    tp,
                                    peers,
                                    marker.producerId(),
                                    marker.producerEpoch(),
                                    marker.coordinatorEpoch(),
                                    result,
                                    TXN_MARKER_TIMEOUT_MS)
                            .handle((outcome, failure) -> {
                                Errors error = failure != null ? Errors.forException(failure) : outcome.error();
                                if (error != Errors.NONE) {
                                    LOG.info(
                                            "{}: {} marker of producer {} (epoch {}, coordinator epoch {}) not"
                                                    + " written: {}",
                                            tp,
                                            result,
                                            marker.producerId(),
                                            marker.producerEpoch(),
                                            marker.coordinatorEpoch(),
                                            failure != null ? failure.toString() : outcome.errorMessage());
                                }
                                partitionResult.setErrorCode(error.code());
                                return null;
                            }));
                }
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new))
                .handle((ignored, failure) -> new WriteTxnMarkersResponse(data));
    }

    // ---- DescribeProducers ------------------------------------------------------------------------

    /**
     * Kafka's DescribeProducers: for each partition this node leads, every producer its replica knows (by
     * producer id), with the producer's epoch, last sequence (-1 when only markers named it), last
     * timestamp, the coordinator epoch of its last marker (-1 when none) and the first offset of its open
     * transaction (-1 when none) — what {@code Admin.abortTransaction} needs to abort a hanging one. The
     * state is the replica's after its last applied entry, so every acknowledged write is in it. A
     * partition led elsewhere is answered {@code NOT_LEADER_OR_FOLLOWER}, an unknown one {@code
     * UNKNOWN_TOPIC_OR_PARTITION}. Every field exists in the only version (0).
     */
    CompletableFuture<AbstractResponse> describeProducers(RequestContext context, DescribeProducersRequest request) {
        DescribeProducersResponseData data = new DescribeProducersResponseData();
        ClusterImage image = cluster.image();
        for (TopicRequest topic : request.data().topics()) {
            TopicResponse topicResponse = new TopicResponse().setName(topic.name());
            data.topics().add(topicResponse);
            for (int partition : topic.partitionIndexes()) {
                PartitionResponse response = new PartitionResponse().setPartitionIndex(partition);
                topicResponse.partitions().add(response);
                TopicPartition tp = new TopicPartition(topic.name(), partition);
                Errors leaderError = leaderError(image, tp);
                PartitionStateMachine stateMachine = leaderError == Errors.NONE ? raft.stateMachine(tp) : null;
                if (stateMachine == null || stateMachine.log() == null) {
                    Errors error = leaderError == Errors.NONE ? Errors.NOT_LEADER_OR_FOLLOWER : leaderError;
                    response.setErrorCode(error.code()).setErrorMessage(tp + ": " + error.message());
                    continue;
                }
                List<ProducerStateEntry> producers = new ArrayList<>(stateMachine.producerStates());
                producers.sort(Comparator.comparingLong(ProducerStateEntry::producerId));
                for (ProducerStateEntry producer : producers) {
                    response.activeProducers().add(producerState(producer));
                }
            }
        }
        return CompletableFuture.completedFuture(new DescribeProducersResponse(data));
    }

    private static ProducerState producerState(ProducerStateEntry producer) {
        List<ProducerStateEntry.BatchMetadata> batches = producer.batches();
        int lastSequence =
                batches.isEmpty() ? -1 : batches.get(batches.size() - 1).lastSequence();
        return new ProducerState()
                .setProducerId(producer.producerId())
                .setProducerEpoch(producer.producerEpoch())
                .setLastSequence(lastSequence)
                .setLastTimestamp(producer.lastTimestampMs())
                .setCoordinatorEpoch(producer.coordinatorEpoch())
                .setCurrentTxnStartOffset(producer.currentTxnFirstOffset());
    }
}
