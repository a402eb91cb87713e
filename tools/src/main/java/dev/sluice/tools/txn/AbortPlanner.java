package dev.sluice.tools.txn;

import java.util.List;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;

/**
 * Decides what {@code sluice transactions abort} asks the partition to write: the ABORT marker of one
 * producer, named either by the start offset of its open transaction (looked up in the partition's producers)
 * or by producer id, producer epoch and coordinator epoch. Pure.
 *
 * <p>A coordinator epoch below 0 (a producer no marker has named yet reports -1) becomes 0: the partition
 * refuses a marker only when its coordinator epoch is below the one of the producer's last marker, so 0 is
 * accepted whenever -1 would be, and it is a valid epoch on the wire.
 */
public final class AbortPlanner {
    private AbortPlanner() {}

    /**
     * The abort of the transaction that starts at {@code startOffset} on {@code partition}; throws {@code
     * IllegalArgumentException} saying so when none of {@code producers} has a transaction open there.
     */
    public static AbortTransactionSpec byStartOffset(
            TopicPartition partition, List<ProducerState> producers, long startOffset) {
        for (ProducerState producer : producers) {
            OpenTransaction open = OpenTransaction.of(partition, producer);
            if (open != null && open.startOffset() == startOffset) {
                return byProducer(partition, open.producerId(), (short) open.producerEpoch(), open.coordinatorEpoch());
            }
        }
        long openCount = producers.stream()
                .filter(p -> p.currentTransactionStartOffset().isPresent())
                .count();
        throw new IllegalArgumentException("no open transaction starts at offset " + startOffset + " on " + partition
                + (openCount == 0
                        ? " (the partition has no open transaction)"
                        : " (see the start offsets of its " + openCount
                                + " open transaction(s) with describe-producers)"));
    }

    /** The abort of the transaction of producer {@code producerId} at {@code producerEpoch}. */
    public static AbortTransactionSpec byProducer(
            TopicPartition partition, long producerId, short producerEpoch, int coordinatorEpoch) {
        return new AbortTransactionSpec(partition, producerId, producerEpoch, Math.max(0, coordinatorEpoch));
    }
}
