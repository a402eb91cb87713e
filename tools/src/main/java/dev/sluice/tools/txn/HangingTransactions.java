package dev.sluice.tools.txn;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;

/**
 * Finds hanging transactions: transactions open on a partition that their coordinator will never end there.
 * Pure; the caller asks the cluster in three steps, and this class decides between them.
 *
 * <ol>
 *   <li>{@link #candidates}: the partitions' open transactions whose producer last wrote longer ago than the
 *       longest transaction timeout allowed; a younger one may still be ended by its coordinator.
 *   <li>The caller looks up the transactional id of each candidate's producer (ListTransactions filtered by
 *       producer id) and describes those transactions (DescribeTransactions).
 *   <li>{@link #hanging}: a candidate hangs when its producer has no transactional id any more, when the
 *       coordinator does not know that id, or when the coordinator's current transaction of that id does not
 *       include the partition (a coordinator writes markers only to the partitions of its current
 *       transaction, and keeps them listed until the markers are written).
 * </ol>
 */
public final class HangingTransactions {
    private HangingTransactions() {}

    /**
     * The open transactions of {@code producers} whose last write is more than {@code
     * maxTransactionTimeoutMs} before {@code nowMs}, by partition then start offset.
     */
    public static List<OpenTransaction> candidates(
            Map<TopicPartition, List<ProducerState>> producers, long nowMs, long maxTransactionTimeoutMs) {
        List<OpenTransaction> candidates = new ArrayList<>();
        producers.forEach((partition, states) -> {
            for (ProducerState producer : states) {
                OpenTransaction open = OpenTransaction.of(partition, producer);
                if (open != null && nowMs - open.lastTimestampMs() > maxTransactionTimeoutMs) {
                    candidates.add(open);
                }
            }
        });
        candidates.sort(ORDER);
        return candidates;
    }

    /** The producer ids of {@code candidates}, ascending. */
    public static Set<Long> producerIds(List<OpenTransaction> candidates) {
        Set<Long> ids = new TreeSet<>();
        candidates.forEach(c -> ids.add(c.producerId()));
        return ids;
    }

    /**
     * The candidates that hang.
     *
     * @param transactionalIds the transactional id of each producer id the coordinators know
     * @param partitionsByTransactionalId the partitions of each transactional id's current transaction; an id
     *     the coordinator does not know is absent
     */
    public static List<OpenTransaction> hanging(
            List<OpenTransaction> candidates,
            Map<Long, String> transactionalIds,
            Map<String, Set<TopicPartition>> partitionsByTransactionalId) {
        List<OpenTransaction> hanging = new ArrayList<>();
        for (OpenTransaction candidate : candidates) {
            String transactionalId = transactionalIds.get(candidate.producerId());
            Set<TopicPartition> partitions =
                    transactionalId == null ? null : partitionsByTransactionalId.get(transactionalId);
            if (partitions == null || !partitions.contains(candidate.partition())) {
                hanging.add(candidate);
            }
        }
        hanging.sort(ORDER);
        return hanging;
    }

    private static final Comparator<OpenTransaction> ORDER = Comparator.comparing(
                    (OpenTransaction t) -> t.partition().topic())
            .thenComparingInt(t -> t.partition().partition())
            .thenComparingLong(OpenTransaction::startOffset);
}
