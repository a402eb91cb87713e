package dev.sluice.tools.txn;

import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;

/**
 * A transaction open on one partition, as the partition's leader reports it in DescribeProducers.
 *
 * @param partition the partition
 * @param producerId the producer whose transaction it is
 * @param producerEpoch the producer's epoch on the partition
 * @param coordinatorEpoch the coordinator epoch of the producer's last marker there, -1 when none
 * @param startOffset the offset of the transaction's first batch on the partition
 * @param lastTimestampMs the timestamp of the producer's last batch there
 */
public record OpenTransaction(
        TopicPartition partition,
        long producerId,
        int producerEpoch,
        int coordinatorEpoch,
        long startOffset,
        long lastTimestampMs) {

    /** The open transaction of {@code producer} on {@code partition}, or null when it has none. */
    public static OpenTransaction of(TopicPartition partition, ProducerState producer) {
        if (producer.currentTransactionStartOffset().isEmpty()) {
            return null;
        }
        return new OpenTransaction(
                partition,
                producer.producerId(),
                producer.producerEpoch(),
                producer.coordinatorEpoch().orElse(-1),
                producer.currentTransactionStartOffset().getAsLong(),
                producer.lastTimestamp());
    }
}
