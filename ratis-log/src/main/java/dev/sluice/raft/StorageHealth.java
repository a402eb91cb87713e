package dev.sluice.raft;

import dev.sluice.partitionstore.SegmentCorruption;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * A node's storage damage since it started, as {@link RaftNode#storageHealth()} reports it: what the scrub
 * and reads found and what was repaired from other replicas.
 *
 * @param damagedSegmentsFound closed segments found damaged (each counted once)
 * @param damagedSegmentsRepaired damaged segments replaced by a good copy from another replica
 * @param lostDataRestored partitions whose lost data (a cut or torn segment) was restored from another replica
 * @param unrepaired damage found and not repaired yet (nothing is served from those batches)
 * @param restoring partitions still restoring lost data (they take no writes and lead nothing meanwhile)
 */
public record StorageHealth(
        long damagedSegmentsFound,
        long damagedSegmentsRepaired,
        long lostDataRestored,
        List<SegmentCorruption> unrepaired,
        List<TopicPartition> restoring) {

    /** Whether nothing is damaged or missing now. */
    public boolean healthy() {
        return unrepaired.isEmpty() && restoring.isEmpty();
    }
}
