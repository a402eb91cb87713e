package dev.sluice.partitionstore;

import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import org.apache.kafka.common.TopicPartition;

/**
 * A node's metadata store: one instance per node, holding every partition's view and the consumer
 * groups' committed offsets and metadata.
 *
 * <p>Thread-safe.
 */
public interface NodeMetadata extends AutoCloseable {
    /** The view of one partition (cheap; may be created per use). */
    PartitionMetadataStore partition(TopicPartition tp);

    /** Partitions that have saved state. */
    List<TopicPartition> partitions();

    void putCommittedOffset(String groupId, TopicPartition tp, CommittedOffset offset);

    /** The group's committed offset for the partition, or null. */
    CommittedOffset committedOffset(String groupId, TopicPartition tp);

    /** Every committed offset of the group. */
    Map<TopicPartition, CommittedOffset> committedOffsets(String groupId);

    void deleteCommittedOffset(String groupId, TopicPartition tp);

    /** Stores the group's metadata, an opaque value owned by the group coordinator. */
    void putGroupMetadata(String groupId, byte[] metadata);

    /** The group's metadata, or null. */
    byte[] groupMetadata(String groupId);

    /** Removes the group's metadata; its committed offsets stay. */
    void deleteGroupMetadata(String groupId);

    /** Every group with metadata or committed offsets, sorted. */
    List<String> groupIds();

    /** Removes the group's metadata and committed offsets. */
    void deleteGroup(String groupId);

    /**
     * Stores one producer's pending transactional offsets on a {@code __consumer_offsets} partition (offsets
     * committed in a transaction that is still open there): an opaque value owned by the group coordinator.
     * Kept with the partition's state: {@link PartitionMetadataStore#deleteAll()} removes them too.
     */
    void putPendingTxnOffsets(TopicPartition offsetsPartition, long producerId, byte[] value);

    /** Removes one producer's pending transactional offsets on the partition. */
    void deletePendingTxnOffsets(TopicPartition offsetsPartition, long producerId);

    /** Every producer's pending transactional offsets on the partition, by producer id in order. */
    NavigableMap<Long, byte[]> pendingTxnOffsets(TopicPartition offsetsPartition);

    /** Makes every write so far durable. */
    void sync();

    @Override
    void close();
}
