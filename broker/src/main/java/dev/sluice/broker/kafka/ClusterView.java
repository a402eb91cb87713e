package dev.sluice.broker.kafka;

import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.coordinator.PartitionLeadership;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * What this node knows of the cluster, for Metadata and for not-leader answers: the coordinator's image
 * (topics, replicas, nodes) and each partition's leader, leader epoch and in-sync replicas — from this
 * node's own replica when it has one, else from the leadership table the coordinator hands out.
 */
public final class ClusterView {
    private final int selfId;
    private final RaftNode raft;
    private final CoordinatorService coordinator;

    public ClusterView(int selfId, RaftNode raft, CoordinatorService coordinator) {
        this.selfId = selfId;
        this.raft = raft;
        this.coordinator = coordinator;
    }

    /** A partition's leadership as far as this node knows; leader -1 when none is known. */
    public record PartitionInfo(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr) {}

    public int selfId() {
        return selfId;
    }

    public ClusterImage image() {
        return coordinator.image();
    }

    public TopicInfo topic(String name) {
        return coordinator.image().topic(name);
    }

    public NodeRegistration node(int id) {
        return coordinator.image().node(id);
    }

    /** The local replica's status, or null when this node holds none. */
    public ReplicaStatus localStatus(TopicPartition tp) {
        return raft.status(tp);
    }

    public PartitionInfo partition(TopicPartition tp, List<Integer> assigned) {
        ReplicaStatus status = raft.status(tp);
        if (status != null && status.leader() != null) {
            int leader = parseId(status.leader());
            if (status.isLeader()) {
                return new PartitionInfo(leader, (int) status.leaderEpoch(), assigned, ids(status.inSyncReplicas()));
            }
            PartitionLeadership reported = coordinator.leadership(tp);
            if (reported != null && reported.leader() == leader && reported.leaderEpoch() >= status.leaderEpoch()) {
                return new PartitionInfo(leader, reported.leaderEpoch(), assigned, reported.isr());
            }
            return new PartitionInfo(leader, (int) status.leaderEpoch(), assigned, List.of(leader));
        }
        PartitionLeadership reported = coordinator.leadership(tp);
        if (reported != null) {
            return new PartitionInfo(reported.leader(), reported.leaderEpoch(), assigned, reported.isr());
        }
        return new PartitionInfo(-1, -1, assigned, List.of());
    }

    static int parseId(String peerId) {
        try {
            return Integer.parseInt(peerId);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static List<Integer> ids(List<String> peerIds) {
        List<Integer> ids = new ArrayList<>();
        for (String id : peerIds) {
            int parsed = parseId(id);
            if (parsed >= 0) {
                ids.add(parsed);
            }
        }
        ids.sort(null);
        return ids;
    }
}
