package dev.sluice.broker.kafka;

import dev.sluice.broker.net.RequestContext;
import dev.sluice.broker.txn.TransactionCoordinatorService;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.txn.TxnCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.apache.kafka.common.errors.CoordinatorLoadInProgressException;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResultCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.DescribeTransactionsResponse;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.ListTransactionsResponse;

/**
 * The transaction APIs of a node, answered by the {@link TransactionCoordinatorService}: FindCoordinator for
 * transactional ids (the coordinator group's leader), InitProducerId with a transactional id,
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and ListTransactions. A node that does not
 * coordinate transactions answers {@code NOT_COORDINATOR} (ListTransactions: an empty list, as a Kafka broker
 * leading none of the transaction log's partitions does; the admin client asks every node).
 *
 * <p>Only transaction version 1 is served: EndTxn and TxnOffsetCommit up to v4 and AddPartitionsToTxn up to v3
 * (v4 is the broker-to-broker batch of KIP-890; v5 of all three belongs to transaction version 2).
 */
final class TransactionApis {
    static final short ADD_PARTITIONS_TO_TXN_MAX_VERSION = 3;
    static final short END_TXN_MAX_VERSION = 4;
    /** TxnOffsetCommit v5 belongs to transaction version 2 too. */
    static final short TXN_OFFSET_COMMIT_MAX_VERSION = 4;

    private final ClusterView cluster;
    private final TransactionCoordinatorService transactions;

    TransactionApis(ClusterView cluster, TransactionCoordinatorService transactions) {
        this.cluster = cluster;
        this.transactions = transactions;
    }

    // ---- FindCoordinator(TRANSACTION) ----

    CompletableFuture<AbstractResponse> findCoordinator(FindCoordinatorRequest request) {
        short version = request.version();
        FindCoordinatorRequestData data = request.data();
        boolean batched = version >= FindCoordinatorRequest.MIN_BATCHED_VERSION;
        List<String> keys = batched ? data.coordinatorKeys() : List.of(data.key());
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        List<Coordinator> found = new ArrayList<>();
        for (String key : keys) {
            found.add(locate(key));
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

    private Coordinator locate(String key) {
        Coordinator coordinator =
                new Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1);
        ClusterImage image = cluster.image();
        int nodeId = transactions.coordinatorNode();
        NodeRegistration node = nodeId < 0 ? null : image.node(nodeId);
        if (node == null || node.fenced()) {
            return coordinator
                    .setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                    .setErrorMessage("the coordinator group has no leader right now");
        }
        return coordinator
                .setErrorCode(Errors.NONE.code())
                .setNodeId(node.nodeId())
                .setHost(node.host())
                .setPort(node.port());
    }

    // ---- the coordinator's requests ----

    CompletableFuture<AbstractResponse> initProducerId(RequestContext context, InitProducerIdRequest request) {
        return ask(
                request,
                handle -> new TxnCommand.InitProducerId(context(context, request, handle), request.data()),
                m -> new InitProducerIdResponse((InitProducerIdResponseData) m));
    }

    CompletableFuture<AbstractResponse> addPartitionsToTxn(RequestContext context, AddPartitionsToTxnRequest request) {
        if (request.version() > ADD_PARTITIONS_TO_TXN_MAX_VERSION) {
            return CompletableFuture.completedFuture(
                    request.getErrorResponse(0, Errors.UNSUPPORTED_VERSION.exception()));
        }
        // As in Kafka, a request naming a partition that does not exist never reaches the coordinator: that
        // partition fails with UNKNOWN_TOPIC_OR_PARTITION and the others are not attempted.
        ClusterImage image = cluster.image();
        boolean unknown = false;
        for (AddPartitionsToTxnTopic topic : request.data().v3AndBelowTopics()) {
            for (int partition : topic.partitions()) {
                ClusterImage.TopicInfo info = image.topic(topic.name());
                if (info == null || !info.replicas().containsKey(partition)) {
                    unknown = true;
                }
            }
        }
        if (unknown) {
            AddPartitionsToTxnTopicResultCollection results = new AddPartitionsToTxnTopicResultCollection();
            for (AddPartitionsToTxnTopic topic : request.data().v3AndBelowTopics()) {
                AddPartitionsToTxnPartitionResultCollection partitions =
                        new AddPartitionsToTxnPartitionResultCollection();
                ClusterImage.TopicInfo info = image.topic(topic.name());
                for (int partition : topic.partitions()) {
                    boolean exists = info != null && info.replicas().containsKey(partition);
                    partitions.add(new AddPartitionsToTxnPartitionResult()
                            .setPartitionIndex(partition)
                            .setPartitionErrorCode(
                                    exists
                                            ? Errors.OPERATION_NOT_ATTEMPTED.code()
                                            : Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                }
                results.add(new AddPartitionsToTxnTopicResult()
                        .setName(topic.name())
                        .setResultsByPartition(partitions));
            }
            return CompletableFuture.completedFuture(new AddPartitionsToTxnResponse(
                    new AddPartitionsToTxnResponseData().setResultsByTopicV3AndBelow(results)));
        }
        return ask(
                request,
                handle -> new TxnCommand.AddPartitionsToTxn(context(context, request, handle), request.data()),
                m -> new AddPartitionsToTxnResponse((AddPartitionsToTxnResponseData) m));
    }

    CompletableFuture<AbstractResponse> addOffsetsToTxn(RequestContext context, AddOffsetsToTxnRequest request) {
        return ask(
                request,
                handle -> new TxnCommand.AddOffsetsToTxn(context(context, request, handle), request.data()),
                m -> new AddOffsetsToTxnResponse((AddOffsetsToTxnResponseData) m));
    }

    CompletableFuture<AbstractResponse> endTxn(RequestContext context, EndTxnRequest request) {
        if (request.version() > END_TXN_MAX_VERSION) {
            return CompletableFuture.completedFuture(
                    request.getErrorResponse(0, Errors.UNSUPPORTED_VERSION.exception()));
        }
        return ask(
                request,
                handle -> new TxnCommand.EndTxn(context(context, request, handle), request.data()),
                m -> new EndTxnResponse((EndTxnResponseData) m));
    }

    CompletableFuture<AbstractResponse> describeTransactions(
            RequestContext context, DescribeTransactionsRequest request) {
        return ask(
                request,
                handle -> new TxnCommand.DescribeTransactions(context(context, request, handle), request.data()),
                m -> new DescribeTransactionsResponse((DescribeTransactionsResponseData) m));
    }

    CompletableFuture<AbstractResponse> listTransactions(RequestContext context, ListTransactionsRequest request) {
        return transactions
                .submit(handle -> new TxnCommand.ListTransactions(context(context, request, handle), request.data()))
                .handle((message, failure) -> {
                    if (failure == null) {
                        return new ListTransactionsResponse((ListTransactionsResponseData) message);
                    }
                    Throwable cause = unwrap(failure);
                    if (cause instanceof CoordinatorLoadInProgressException) {
                        return request.getErrorResponse(0, cause);
                    }
                    // not the coordinator: it holds no transactions to list
                    return new ListTransactionsResponse(
                            new ListTransactionsResponseData().setErrorCode(Errors.NONE.code()));
                });
    }

    private CompletableFuture<AbstractResponse> ask(
            AbstractRequest request, LongFunction<TxnCommand> command, Function<Message, AbstractResponse> response) {
        return transactions
                .submit(command)
                .handle((message, failure) ->
                        failure == null ? response.apply(message) : request.getErrorResponse(0, unwrap(failure)));
    }

    private static TxnCommand.Context context(RequestContext context, AbstractRequest request, long handle) {
        return new TxnCommand.Context(
                handle, request.version(), context.header().clientId());
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
