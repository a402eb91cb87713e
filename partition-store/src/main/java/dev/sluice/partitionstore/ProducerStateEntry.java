package dev.sluice.partitionstore;

import java.util.List;

/**
 * What a partition remembers of one idempotent or transactional producer: its current epoch, the
 * metadata of its last (at most {@link #MAX_BATCHES}) batches so that a retried batch can be answered
 * with its original offsets, and the first offset of its ongoing transaction.
 *
 * @param producerId the producer id
 * @param producerEpoch the newest epoch seen
 * @param batches metadata of the newest batches, oldest first, at most {@link #MAX_BATCHES}
 * @param currentTxnFirstOffset first offset of the producer's open transaction, or -1
 * @param lastTimestampMs timestamp of the last batch, for expiring idle producers
 * @param coordinatorEpoch the epoch of the transaction coordinator that wrote the producer's last
 *     transaction marker, or {@link #NO_COORDINATOR_EPOCH}; a marker of an older one is refused
 * @param lastMarkerOffset the offset of the producer's last transaction marker on this partition, or {@link
 *     #NO_MARKER}: a transactional batch checked with the coordinator before that offset was written comes
 *     too late for the transaction it was checked for (Kafka's verification guard, KIP-890)
 */
public record ProducerStateEntry(
        long producerId,
        short producerEpoch,
        List<BatchMetadata> batches,
        long currentTxnFirstOffset,
        long lastTimestampMs,
        int coordinatorEpoch,
        long lastMarkerOffset) {

    /** {@link #coordinatorEpoch()} of a producer that no transaction marker has named yet. */
    public static final int NO_COORDINATOR_EPOCH = -1;

    /** {@link #lastMarkerOffset()} of a producer that no transaction marker has named yet. */
    public static final long NO_MARKER = -1;

    /** Kafka keeps the last five batches per producer (max.in.flight.requests.per.connection ≤ 5). */
    public static final int MAX_BATCHES = 5;

    /** A producer no transaction marker has named yet. */
    public ProducerStateEntry(
            long producerId,
            short producerEpoch,
            List<BatchMetadata> batches,
            long currentTxnFirstOffset,
            long lastTimestampMs) {
        this(producerId, producerEpoch, batches, currentTxnFirstOffset, lastTimestampMs, NO_COORDINATOR_EPOCH);
    }

    /** A producer whose last marker's offset is not known (or that no marker has named yet). */
    public ProducerStateEntry(
            long producerId,
            short producerEpoch,
            List<BatchMetadata> batches,
            long currentTxnFirstOffset,
            long lastTimestampMs,
            int coordinatorEpoch) {
        this(producerId, producerEpoch, batches, currentTxnFirstOffset, lastTimestampMs, coordinatorEpoch, NO_MARKER);
    }

    public ProducerStateEntry {
        batches = List.copyOf(batches);
        if (batches.size() > MAX_BATCHES) {
            throw new IllegalArgumentException(
                    "producer " + producerId + " has " + batches.size() + " batches, more than " + MAX_BATCHES);
        }
    }

    /**
     * One remembered batch.
     *
     * @param firstSequence base sequence of the batch
     * @param lastSequence sequence of its last record
     * @param firstOffset offset given to its first record
     * @param lastOffset offset given to its last record
     * @param timestampMs its max timestamp
     */
    public record BatchMetadata(
            int firstSequence, int lastSequence, long firstOffset, long lastOffset, long timestampMs) {}
}
