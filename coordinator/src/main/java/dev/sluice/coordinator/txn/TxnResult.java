package dev.sluice.coordinator.txn;

import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.requests.TransactionResult;

/**
 * What a step of {@link TransactionCoordinatorState} produced.
 *
 * @param records to append, in order, to the coordinator group (one Raft entry for all of them keeps them
 *     atomic: {@link TxnRecordCodec#encodeBatch}). The state already reflects them.
 * @param completions responses to send
 * @param markers marker work to start once this result's records are committed (for {@link
 *     TransactionCoordinatorState#activate}, whose result has no records: at once). If the records never
 *     commit (leadership lost), drop it: the next leader finds the transaction in its log and asks again.
 */
public record TxnResult(List<TxnRecord> records, List<Completion> completions, List<WriteMarkers> markers) {
    private static final TxnResult EMPTY = new TxnResult(List.of(), List.of(), List.of());

    public TxnResult {
        records = List.copyOf(records);
        completions = List.copyOf(completions);
        markers = List.copyOf(markers);
    }

    public static TxnResult empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return records.isEmpty() && completions.isEmpty() && markers.isEmpty();
    }

    /**
     * The answer to one request.
     *
     * @param requestHandle the {@link TxnCommand.Context#requestHandle()} of the request answered
     * @param response {@code InitProducerIdResponseData}, {@code AddPartitionsToTxnResponseData}, {@code
     *     AddOffsetsToTxnResponseData}, {@code EndTxnResponseData}, {@code DescribeTransactionsResponseData} or
     *     {@code ListTransactionsResponseData}
     * @param awaitsCommit send it only once every record emitted so far, this result's included, is committed;
     *     if they never are (leadership lost), answer {@code NOT_COORDINATOR} instead
     */
    public record Completion(long requestHandle, Message response, boolean awaitsCommit) {
        public Completion {
            Objects.requireNonNull(response, "response");
        }
    }

    /**
     * Write a COMMIT or ABORT control batch for the producer into every partition listed (Kafka's
     * WriteTxnMarkers), then report {@link TransactionCoordinatorState#markersWritten} with the same
     * transactional id, producer id and epoch. Retry a partition until it takes its marker; a partition that
     * no longer exists counts as written, as in Kafka.
     *
     * @param coordinatorEpoch the coordinator's epoch (its Raft term) when the work was asked for: a partition
     *     rejects markers of an older coordinator epoch than it has seen for the producer
     * @param partitions sorted by {@link TxnRecord#PARTITION_ORDER}; may be empty (then report at once)
     */
    public record WriteMarkers(
            String transactionalId,
            long producerId,
            short producerEpoch,
            TransactionResult result,
            List<TopicPartition> partitions,
            int coordinatorEpoch) {
        public WriteMarkers {
            Objects.requireNonNull(transactionalId, "transactionalId");
            Objects.requireNonNull(result, "result");
            partitions = List.copyOf(partitions);
        }
    }
}
