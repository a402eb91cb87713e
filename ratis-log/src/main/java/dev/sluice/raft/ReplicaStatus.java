package dev.sluice.raft;

import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * One replica's view of its partition group, as a broker needs it for Metadata and Fetch.
 *
 * @param topicPartition the partition
 * @param self this node's peer id
 * @param leader the current leader's peer id, or null when there is none
 * @param leaderEpoch the current Raft term (the Kafka leader epoch)
 * @param isLeader whether this replica leads and may take writes (its first entry of the term is
 *     committed)
 * @param peers every replica of the group, this one included
 * @param inSyncReplicas the replicas that have caught up with the leader's log within {@code
 *     replica.lag.time.max.ms} (on the leader; elsewhere just this replica and the leader)
 * @param highWatermark offset after the last committed and applied record on this replica
 * @param logStartOffset the first offset still stored
 * @param logEndOffset the offset after the last stored record (may hold uncommitted records)
 */
public record ReplicaStatus(
        TopicPartition topicPartition,
        String self,
        String leader,
        long leaderEpoch,
        boolean isLeader,
        List<String> peers,
        List<String> inSyncReplicas,
        long highWatermark,
        long logStartOffset,
        long logEndOffset) {}
