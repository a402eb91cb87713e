package dev.sluice.broker;

import dev.sluice.broker.kafka.PartitionApis;
import dev.sluice.coordinator.ClusterImage;
import dev.sluice.coordinator.ClusterImage.NodeRegistration;
import dev.sluice.coordinator.ClusterImage.TopicInfo;
import dev.sluice.coordinator.CoordinatorService;
import dev.sluice.coordinator.PartitionLeadership;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.ReplicaStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's partition groups match the coordinator's image, idempotently, so that after
 * restarts and failures the two converge: it creates the replicas the image assigns here, removes the
 * ones of deleted topics (and of partitions that moved away, once the group no longer counts this
 * node), applies topic config changes, and — for the partitions this node leads — changes the group's
 * membership to the assigned replicas and hands leadership to the preferred replica (the first one)
 * when that replica is alive and in sync.
 *
 * <p>Threading: {@link #reconcile} runs on one thread (the node's maintenance executor).
 */
final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    private static final long TRANSFER_BACKOFF_MS = 10_000;
    private static final long MEMBERSHIP_BACKOFF_MS = 2_000;

    private final int selfId;
    private final BrokerConfig config;
    private final RaftNode raft;
    private final CoordinatorService coordinator;
    private final PartitionApis partitionApis;
    private final Map<TopicPartition, LogConfig> appliedConfigs = new HashMap<>();
    private final Map<TopicPartition, Long> lastTransferMs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> lastMembershipMs = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    Reconciler(
            int selfId,
            BrokerConfig config,
            RaftNode raft,
            CoordinatorService coordinator,
            PartitionApis partitionApis) {
        this.selfId = selfId;
        this.config = config;
        this.raft = raft;
        this.coordinator = coordinator;
        this.partitionApis = partitionApis;
    }

    void stop() {
        stopping = true;
    }

    void reconcile() {
        if (stopping) {
            return;
        }
        ClusterImage image = coordinator.image();
        if (!coordinator.caughtUp()) {
            return; // a partial image could look like deleted topics
        }
        Map<TopicPartition, List<Integer>> desired = new HashMap<>();
        image.topics().values().forEach(topic -> topic.replicas().forEach((partition, replicas) -> {
            if (replicas.contains(selfId)) {
                desired.put(new TopicPartition(topic.name(), partition), replicas);
            }
        }));
        Set<TopicPartition> local = new HashSet<>(raft.partitions());
        for (Map.Entry<TopicPartition, List<Integer>> e : desired.entrySet()) {
            TopicPartition tp = e.getKey();
            TopicInfo topic = image.topic(tp.topic());
            LogConfig logConfig = config.topicConfig(topic.configs());
            if (!local.contains(tp)) {
                create(image, tp, e.getValue(), logConfig);
            } else {
                if (!logConfig.equals(appliedConfigs.get(tp))) {
                    raft.updateLogConfig(tp, logConfig);
                    appliedConfigs.put(tp, logConfig);
                }
                lead(image, tp, e.getValue());
            }
        }
        for (TopicPartition tp : local) {
            if (desired.containsKey(tp)) {
                continue;
            }
            TopicInfo topic = image.topic(tp.topic());
            boolean deleted = topic == null || !topic.replicas().containsKey(tp.partition());
            ReplicaStatus status = raft.status(tp);
            boolean leftGroup = status != null && !status.peers().contains(Integer.toString(selfId));
            if (deleted || leftGroup || (status != null && !status.isLeader() && movedAway(tp, topic))) {
                remove(tp, deleted);
            } else if (status != null && status.isLeader()) {
                lead(image, tp, topic.replicas().get(tp.partition()));
            }
        }
    }

    /** Whether the partition's current leader reports a group that no longer includes this node. */
    private boolean movedAway(TopicPartition tp, TopicInfo topic) {
        PartitionLeadership reported = coordinator.leadership(tp);
        return reported != null
                && reported.leader() != selfId
                && !reported.replicas().contains(selfId)
                && reported.replicas().containsAll(topic.replicas().get(tp.partition()));
    }

    private void create(ClusterImage image, TopicPartition tp, List<Integer> replicas, LogConfig logConfig) {
        List<RaftPeer> peers = peers(image, replicas);
        if (peers == null) {
            return;
        }
        try {
            raft.addPartition(tp, peers, logConfig);
            appliedConfigs.put(tp, logConfig);
            LOG.info("node {} now holds a replica of {} (replicas {})", selfId, tp, replicas);
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {} could not create its replica of {}; retrying: {}", selfId, tp, e.getMessage());
        }
    }

    private void remove(TopicPartition tp, boolean deleted) {
        try {
            raft.removePartition(tp, true);
            partitionApis.forget(tp);
            appliedConfigs.remove(tp);
            LOG.info("node {} removed its replica of {} ({})", selfId, tp, deleted ? "topic deleted" : "moved away");
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {} could not remove its replica of {}; retrying: {}", selfId, tp, e.getMessage());
        }
    }

    /** On the leader: bring the group's membership to the assignment, and leadership to the preferred replica. */
    private void lead(ClusterImage image, TopicPartition tp, List<Integer> replicas) {
        ReplicaStatus status = raft.status(tp);
        if (status == null || !status.isLeader()) {
            return;
        }
        long now = System.currentTimeMillis();
        Set<String> wanted = new HashSet<>();
        replicas.forEach(r -> wanted.add(Integer.toString(r)));
        if (!wanted.equals(new HashSet<>(status.peers()))) {
            if (now - lastMembershipMs.getOrDefault(tp, 0L) < MEMBERSHIP_BACKOFF_MS) {
                return;
            }
            lastMembershipMs.put(tp, now);
            List<RaftPeer> peers = peers(image, replicas);
            if (peers != null) {
                try {
                    raft.changeReplicas(tp, peers);
                    LOG.info("{}: replicas changed from {} to {}", tp, status.peers(), replicas);
                } catch (IOException | RuntimeException e) {
                    LOG.info("{}: replicas not changed yet ({}); retrying", tp, e.getMessage());
                }
            }
            return;
        }
        int preferred = replicas.get(0);
        NodeRegistration node = image.node(preferred);
        if (preferred != selfId
                && node != null
                && !node.fenced()
                && !node.shuttingDown()
                && status.inSyncReplicas().contains(Integer.toString(preferred))
                && now - lastTransferMs.getOrDefault(tp, 0L) > TRANSFER_BACKOFF_MS) {
            lastTransferMs.put(tp, now);
            try {
                raft.transferLeadership(tp, Integer.toString(preferred), 5_000);
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: leadership not moved to node {}: {}", tp, preferred, e.getMessage());
            }
        }
    }

    private static List<RaftPeer> peers(ClusterImage image, List<Integer> replicas) {
        List<RaftPeer> peers = new ArrayList<>();
        for (int id : replicas) {
            NodeRegistration node = image.node(id);
            if (node == null) {
                return null;
            }
            peers.add(RaftPeer.newBuilder()
                    .setId(Integer.toString(id))
                    .setAddress(node.raftHost() + ":" + node.raftPort())
                    .build());
        }
        return peers;
    }

    /** What this node reports to the coordinator: the partitions it leads. */
    List<PartitionLeadership> leadershipReports() {
        List<PartitionLeadership> reports = new ArrayList<>();
        for (TopicPartition tp : raft.partitions()) {
            ReplicaStatus status = raft.status(tp);
            if (status != null && status.isLeader()) {
                reports.add(new PartitionLeadership(
                        tp.topic(),
                        tp.partition(),
                        selfId,
                        (int) status.leaderEpoch(),
                        ids(status.peers()),
                        ids(status.inSyncReplicas())));
            }
        }
        return reports;
    }

    private static List<Integer> ids(List<String> peers) {
        List<Integer> ids = new ArrayList<>();
        for (String p : peers) {
            try {
                ids.add(Integer.parseInt(p));
            } catch (NumberFormatException e) {
                // not a node id
            }
        }
        ids.sort(null);
        return ids;
    }
}
