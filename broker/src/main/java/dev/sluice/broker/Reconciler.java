package dev.sluice.broker;

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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
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
 * <p>Each pass creates the missing replicas first, and never waits for a leader duty: a membership change
 * waits until the new configuration commits and a leadership transfer until the target is elected (seconds
 * each on a loaded machine, and a node may lead many partitions that want another leader), so these run on
 * {@code leaderDuties}, one at a time per partition. Run inline they held the pass for tens of seconds, and
 * a replica assigned to this node meanwhile did not exist: its group ran on the other replicas only, and
 * when one of them stopped the group could elect no leader (the new replica's empty log cannot vote for a
 * candidate that has committed entries, Ratis's guard against a wiped voter) until that replica came back.
 *
 * <p>Threading: {@link #reconcile} runs on one thread (the node's maintenance executor); leader duties run
 * on {@code leaderDuties} and touch only the concurrent maps.
 */
final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    static final long TRANSFER_BACKOFF_MS = 10_000;
    static final long MEMBERSHIP_BACKOFF_MS = 2_000;
    static final long TRANSFER_TIMEOUT_MS = 5_000;

    /** This node's partition groups, as the reconciler acts on them ({@link #of(RaftNode)} in a node). */
    interface Replicas {
        List<TopicPartition> partitions();

        ReplicaStatus status(TopicPartition tp);

        void add(TopicPartition tp, List<RaftPeer> peers, LogConfig config) throws IOException;

        /**
         * Creates this node's replica of a group that exists without it ({@code members}, its current
         * replicas): passive until the group's leader adds it (see {@link RaftNode#joinPartition}).
         */
        void join(TopicPartition tp, List<RaftPeer> members, LogConfig config) throws IOException;

        /** Removes this node's replica and its data. */
        void remove(TopicPartition tp) throws IOException;

        void updateLogConfig(TopicPartition tp, LogConfig config);

        /** Changes the group's membership; returns once the new configuration is committed. */
        void changeReplicas(TopicPartition tp, List<RaftPeer> peers) throws IOException;

        /** Asks the group to move leadership to {@code target}; waits up to {@code timeoutMs}. */
        boolean transferLeadership(TopicPartition tp, String target, long timeoutMs) throws IOException;

        /**
         * Whether this replica's group has never had an election this replica took part in and holds nothing: term
         * 0, an empty Raft log, no snapshot (see {@link RaftNode#neverElected}).
         */
        boolean neverElected(TopicPartition tp);

        static Replicas of(RaftNode raft) {
            return new Replicas() {
                @Override
                public List<TopicPartition> partitions() {
                    return raft.partitions();
                }

                @Override
                public ReplicaStatus status(TopicPartition tp) {
                    return raft.status(tp);
                }

                @Override
                public void add(TopicPartition tp, List<RaftPeer> peers, LogConfig config) throws IOException {
                    raft.addPartition(tp, peers, config);
                }

                @Override
                public void join(TopicPartition tp, List<RaftPeer> members, LogConfig config) throws IOException {
                    raft.joinPartition(tp, members, config);
                }

                @Override
                public void remove(TopicPartition tp) throws IOException {
                    raft.removePartition(tp, true);
                }

                @Override
                public void updateLogConfig(TopicPartition tp, LogConfig config) {
                    raft.updateLogConfig(tp, config);
                }

                @Override
                public void changeReplicas(TopicPartition tp, List<RaftPeer> peers) throws IOException {
                    raft.changeReplicas(tp, peers);
                }

                @Override
                public boolean transferLeadership(TopicPartition tp, String target, long timeoutMs) throws IOException {
                    return raft.transferLeadership(tp, target, timeoutMs);
                }

                @Override
                public boolean neverElected(TopicPartition tp) {
                    return raft.neverElected(tp);
                }
            };
        }
    }

    /** What the coordinator says ({@link #of(CoordinatorService)} in a node). */
    interface Metadata {
        ClusterImage image();

        /** Whether the image is complete (a partial one could look like deleted topics). */
        boolean caughtUp();

        /** The latest leadership of the partition its leader reported, or null. */
        PartitionLeadership leadership(TopicPartition tp);

        static Metadata of(CoordinatorService coordinator) {
            return new Metadata() {
                @Override
                public ClusterImage image() {
                    return coordinator.image();
                }

                @Override
                public boolean caughtUp() {
                    return coordinator.caughtUp();
                }

                @Override
                public PartitionLeadership leadership(TopicPartition tp) {
                    return coordinator.leadership(tp);
                }
            };
        }
    }

    private final int selfId;
    private final Function<Map<String, String>, LogConfig> topicConfig;
    private final Replicas replicas;
    private final Metadata metadata;
    private final Consumer<TopicPartition> forget;
    private final Executor leaderDuties;
    private final LongSupplier nowMs;
    private final Map<TopicPartition, LogConfig> appliedConfigs = new HashMap<>();
    private final Map<TopicPartition, Long> lastTransferMs = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> lastMembershipMs = new ConcurrentHashMap<>();
    /** Partitions with a leader duty submitted and not finished. */
    private final Set<TopicPartition> dutyUnderWay = ConcurrentHashMap.newKeySet();

    private volatile boolean stopping;

    /**
     * @param topicConfig a topic's log settings from its configs (the node's defaults for the rest)
     * @param forget called with a partition whose replica this node removed
     * @param leaderDuties runs membership changes and leadership transfers
     * @param nowMs the wall clock, in milliseconds (for the backoffs)
     */
    Reconciler(
            int selfId,
            Function<Map<String, String>, LogConfig> topicConfig,
            Replicas replicas,
            Metadata metadata,
            Consumer<TopicPartition> forget,
            Executor leaderDuties,
            LongSupplier nowMs) {
        this.selfId = selfId;
        this.topicConfig = topicConfig;
        this.replicas = replicas;
        this.metadata = metadata;
        this.forget = forget;
        this.leaderDuties = leaderDuties;
        this.nowMs = nowMs;
    }

    void stop() {
        stopping = true;
    }

    void reconcile() {
        if (stopping) {
            return;
        }
        ClusterImage image = metadata.image();
        if (!metadata.caughtUp()) {
            return; // a partial image could look like deleted topics
        }
        Map<TopicPartition, List<Integer>> desired = new HashMap<>();
        image.topics().values().forEach(topic -> topic.replicas().forEach((partition, assigned) -> {
            if (assigned.contains(selfId)) {
                desired.put(new TopicPartition(topic.name(), partition), assigned);
            }
        }));
        Set<TopicPartition> local = new HashSet<>(replicas.partitions());
        for (Map.Entry<TopicPartition, List<Integer>> e : desired.entrySet()) {
            if (!local.contains(e.getKey())) {
                create(image, e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<TopicPartition, List<Integer>> e : desired.entrySet()) {
            TopicPartition tp = e.getKey();
            if (local.contains(tp) && stillborn(tp, e.getValue())) {
                recreate(image, tp, e.getValue());
                continue;
            }
            if (local.contains(tp)) {
                LogConfig logConfig = topicConfig.apply(image.topic(tp.topic()).configs());
                if (!logConfig.equals(appliedConfigs.get(tp))) {
                    replicas.updateLogConfig(tp, logConfig);
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
            ReplicaStatus status = replicas.status(tp);
            boolean leftGroup = status != null && !status.peers().contains(Integer.toString(selfId));
            boolean neverUsed = status != null && status.leader() == null && replicas.neverElected(tp);
            if (deleted || leftGroup || neverUsed || (status != null && !status.isLeader() && movedAway(tp, topic))) {
                remove(tp, deleted);
            } else if (status != null && status.isLeader()) {
                lead(image, tp, topic.replicas().get(tp.partition()));
            }
        }
    }

    /**
     * Whether this replica belongs to a group that never elected a leader and whose replicas the coordinator moved
     * meanwhile: the replica counts itself a member of replicas that are not the assigned ones. Such a group can
     * stay leaderless for good — the chaos run with seed 4001 (the final campaign's second run): nodes 4 and 5
     * were fenced before they created their replicas of queue-1, the coordinator moved those twice, and node 2
     * (group [2, 4, 5]), node 1 ([1, 2, 4]) and node 3 ([1, 2, 3]) each refused the others' votes, Ratis refusing a
     * candidate outside its own configuration. Only a leader can change a configuration, so the replica is
     * created again as a member of the assigned replicas. That is safe only because it holds nothing: it voted in
     * no election (term 0) and has no entry.
     */
    private boolean stillborn(TopicPartition tp, List<Integer> assigned) {
        ReplicaStatus status = replicas.status(tp);
        if (status == null || status.leader() != null || !status.peers().contains(Integer.toString(selfId))) {
            return false; // led, or a replica joining an existing group (which leaves itself out until added)
        }
        return !new HashSet<>(ids(status.peers())).equals(new HashSet<>(assigned)) && replicas.neverElected(tp);
    }

    private void recreate(ClusterImage image, TopicPartition tp, List<Integer> assigned) {
        List<String> before = replicas.status(tp).peers();
        try {
            replicas.remove(tp);
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "node {} could not remove its replica of {} to create it again; retrying: {}",
                    selfId,
                    tp,
                    e.getMessage());
            return;
        }
        LOG.info(
                "{}: the group never elected a leader and its replicas moved from {} to {}: creating this node's"
                        + " replica again with the new replicas",
                tp,
                before,
                assigned);
        create(image, tp, assigned);
    }

    /** Whether the partition's current leader reports a group that no longer includes this node. */
    private boolean movedAway(TopicPartition tp, TopicInfo topic) {
        PartitionLeadership reported = metadata.leadership(tp);
        return reported != null
                && reported.leader() != selfId
                && !reported.replicas().contains(selfId)
                && reported.replicas().containsAll(topic.replicas().get(tp.partition()));
    }

    /**
     * Creates this node's replica. Of a partition whose group exists without this node (the coordinator moved
     * a replica here: see {@link #joins}), the replica joins that group, passive until the group's leader adds
     * it; created as a member of the new assignment instead, it would time out waiting for that leader,
     * campaign, and be told to shut down (Ratis's guard against removed members). Otherwise (a new partition,
     * or a group that already counts this node) it is created as a member of the assigned replicas, which
     * elect a leader among themselves.
     */
    private void create(ClusterImage image, TopicPartition tp, List<Integer> assigned) {
        List<RaftPeer> peers = image.peers(assigned);
        if (peers == null) {
            return;
        }
        LogConfig logConfig = topicConfig.apply(image.topic(tp.topic()).configs());
        PartitionLeadership reported = metadata.leadership(tp);
        List<RaftPeer> members = joins(image, reported, assigned) ? image.peers(reported.replicas()) : null;
        try {
            if (members != null) {
                replicas.join(tp, members, logConfig);
            } else {
                replicas.add(tp, peers, logConfig);
            }
            appliedConfigs.put(tp, logConfig);
            LOG.info(
                    "node {} now holds a replica of {} (replicas {}{})",
                    selfId,
                    tp,
                    assigned,
                    members == null
                            ? ""
                            : "; joining the group of " + reported.replicas() + ", led by node " + reported.leader());
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {} could not create its replica of {}; retrying: {}", selfId, tp, e.getMessage());
        }
    }

    /**
     * Whether the partition's group exists without this node: its leader, a live node, reports replicas that
     * leave this node out but keep another assigned one (a replica moved here; the others stay).
     */
    private boolean joins(ClusterImage image, PartitionLeadership reported, List<Integer> assigned) {
        if (reported == null || reported.replicas().contains(selfId)) {
            return false;
        }
        NodeRegistration leader = image.node(reported.leader());
        return leader != null
                && !leader.fenced()
                && assigned.stream()
                        .anyMatch(id -> id != selfId && reported.replicas().contains(id));
    }

    private void remove(TopicPartition tp, boolean deleted) {
        try {
            replicas.remove(tp);
            forget.accept(tp);
            appliedConfigs.remove(tp);
            LOG.info("node {} removed its replica of {} ({})", selfId, tp, deleted ? "topic deleted" : "moved away");
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {} could not remove its replica of {}; retrying: {}", selfId, tp, e.getMessage());
        }
    }

    /**
     * On the leader: bring the group's membership to the assignment, and leadership to the preferred replica
     * (decided here, carried out on {@code leaderDuties}).
     */
    private void lead(ClusterImage image, TopicPartition tp, List<Integer> assigned) {
        if (dutyUnderWay.contains(tp)) {
            return;
        }
        ReplicaStatus status = replicas.status(tp);
        if (status == null || !status.isLeader()) {
            return;
        }
        long now = nowMs.getAsLong();
        Set<String> wanted = new HashSet<>();
        assigned.forEach(r -> wanted.add(Integer.toString(r)));
        if (!wanted.equals(new HashSet<>(status.peers()))) {
            if (now - lastMembershipMs.getOrDefault(tp, 0L) < MEMBERSHIP_BACKOFF_MS) {
                return;
            }
            // Ratis refuses to replace a majority of the members at once: step there (see MembershipStep).
            List<Integer> members = nodeIds(status.peers());
            List<Integer> target =
                    members == null ? assigned : MembershipStep.next(members, assigned, inSyncIds(status));
            List<RaftPeer> stepPeers = image.peers(target);
            List<Integer> next = stepPeers != null ? target : assigned;
            List<RaftPeer> peers = stepPeers != null ? stepPeers : image.peers(assigned);
            if (peers != null) {
                lastMembershipMs.put(tp, now);
                submit(tp, () -> changeReplicas(tp, status.peers(), next, peers));
            }
            return;
        }
        int preferred = assigned.get(0);
        NodeRegistration node = image.node(preferred);
        if (preferred != selfId
                && node != null
                && !node.fenced()
                && !node.shuttingDown()
                && status.inSyncReplicas().contains(Integer.toString(preferred))
                && now - lastTransferMs.getOrDefault(tp, 0L) > TRANSFER_BACKOFF_MS) {
            lastTransferMs.put(tp, now);
            submit(tp, () -> transferLeadership(tp, preferred));
        }
    }

    private static Set<Integer> inSyncIds(ReplicaStatus status) {
        List<Integer> ids = nodeIds(status.inSyncReplicas());
        return ids == null ? Set.of() : new HashSet<>(ids);
    }

    /** Node ids of Raft peer ids; null if one is not a node id. */
    private static List<Integer> nodeIds(List<String> peerIds) {
        List<Integer> ids = new ArrayList<>(peerIds.size());
        for (String id : peerIds) {
            try {
                ids.add(Integer.parseInt(id));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return ids;
    }

    private void submit(TopicPartition tp, Runnable duty) {
        dutyUnderWay.add(tp);
        try {
            leaderDuties.execute(() -> {
                try {
                    duty.run();
                } finally {
                    dutyUnderWay.remove(tp);
                }
            });
        } catch (RejectedExecutionException e) {
            dutyUnderWay.remove(tp); // the node is stopping
        }
    }

    private void changeReplicas(TopicPartition tp, List<String> before, List<Integer> assigned, List<RaftPeer> peers) {
        if (stopping) {
            return;
        }
        try {
            replicas.changeReplicas(tp, peers);
            LOG.info("{}: replicas changed from {} to {}", tp, before, assigned);
        } catch (IOException | RuntimeException e) {
            LOG.info("{}: replicas not changed yet ({}); retrying", tp, e.getMessage());
        }
    }

    private void transferLeadership(TopicPartition tp, int preferred) {
        if (stopping) {
            return;
        }
        try {
            replicas.transferLeadership(tp, Integer.toString(preferred), TRANSFER_TIMEOUT_MS);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: leadership not moved to node {}: {}", tp, preferred, e.getMessage());
        }
    }

    /** What this node reports to the coordinator: the partitions it leads. */
    List<PartitionLeadership> leadershipReports() {
        List<PartitionLeadership> reports = new ArrayList<>();
        for (TopicPartition tp : replicas.partitions()) {
            ReplicaStatus status = replicas.status(tp);
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
