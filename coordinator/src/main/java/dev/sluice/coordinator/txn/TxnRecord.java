package dev.sluice.coordinator.txn;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@link TransactionCoordinatorState} persists. The records form a compacted log keyed by transactional
 * id: a {@link TxnMetadata} replaces the previous record of its id, a {@link TxnTombstone} deletes it, so a
 * store that keeps the latest record per key and replays those in any order rebuilds the same state. Encoded
 * by {@link TxnRecordCodec}.
 */
public sealed interface TxnRecord permits TxnRecord.TxnMetadata, TxnRecord.TxnTombstone {

    /** Orders partitions by topic, then partition number: the order of every partition list here. */
    Comparator<TopicPartition> PARTITION_ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    String transactionalId();

    /** True for a record that deletes its key. */
    boolean isTombstone();

    /** The compaction key: equal for a record and the records that replace or delete it. */
    default byte[] key() {
        return TxnRecordCodec.key(this);
    }

    /**
     * Everything the coordinator knows of a transactional id, after a transition (Kafka's
     * {@code TransactionLogValue}, plus {@code lastProducerEpoch}, which Kafka keeps only in memory: persisting
     * it lets a KIP-360 retry of InitProducerId succeed across a failover).
     *
     * @param producerId the producer id in use
     * @param previousProducerId the producer id before the last transition ({@code -1} if none): after a
     *     rotation on epoch exhaustion, the exhausted id, which a retrying producer may still present
     * @param nextProducerId always {@code -1} (transaction version 2 only; kept for the format)
     * @param producerEpoch the current epoch of {@code producerId}; {@code -1} never persisted
     * @param lastProducerEpoch the epoch before the last InitProducerId bump, for retries; {@code -1} if a new
     *     producer (or a fence) makes such a retry invalid
     * @param txnTimeoutMs the producer's {@code transaction.timeout.ms}
     * @param state never {@link TxnState#DEAD} or {@link TxnState#PREPARE_EPOCH_FENCE}
     * @param partitions the partitions of the transaction, sorted by {@link #PARTITION_ORDER} without
     *     duplicates: those written to (ONGOING) or owed a marker (PREPARE_*); empty otherwise
     * @param txnStartTimestampMs when the first partition was added; {@code -1} when EMPTY
     * @param txnLastUpdateTimestampMs when this record was written; transactional ids expire from it
     */
    record TxnMetadata(
            String transactionalId,
            long producerId,
            long previousProducerId,
            long nextProducerId,
            short producerEpoch,
            short lastProducerEpoch,
            int txnTimeoutMs,
            TxnState state,
            List<TopicPartition> partitions,
            long txnStartTimestampMs,
            long txnLastUpdateTimestampMs)
            implements TxnRecord {
        public TxnMetadata {
            Objects.requireNonNull(transactionalId, "transactionalId");
            Objects.requireNonNull(state, "state");
            if (state == TxnState.DEAD || state == TxnState.PREPARE_EPOCH_FENCE) {
                throw new IllegalArgumentException(
                        "transactional id " + transactionalId + ": state " + state + " is never persisted");
            }
            if (producerId < 0) {
                throw new IllegalArgumentException(
                        "transactional id " + transactionalId + " has producer id " + producerId + ", expected >= 0");
            }
            if (producerEpoch < 0) {
                throw new IllegalArgumentException("transactional id " + transactionalId + " has producer epoch "
                        + producerEpoch + ", expected >= 0");
            }
            TreeSet<TopicPartition> sorted = new TreeSet<>(PARTITION_ORDER);
            sorted.addAll(partitions);
            partitions = List.copyOf(new ArrayList<>(sorted));
        }

        @Override
        public boolean isTombstone() {
            return false;
        }
    }

    /** The transactional id expired ({@code transactional.id.expiration.ms}) and is forgotten. */
    record TxnTombstone(String transactionalId) implements TxnRecord {
        public TxnTombstone {
            Objects.requireNonNull(transactionalId, "transactionalId");
        }

        @Override
        public boolean isTombstone() {
            return true;
        }
    }
}
