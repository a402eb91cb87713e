package dev.sluice.coordinator.placement;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Decides which live nodes hold the replicas of new partitions, which nodes replace replicas on dead
 * nodes, and in which order each partition lists its replicas, the first being its preferred leader.
 * Every partition is a Raft group, so a replica list is a group's membership and its preferred leader is
 * the member the controller asks to lead.
 *
 * <p>Every method is a pure function of its arguments: no I/O, no clock, no randomness, and every tie is
 * broken by a fixed order of node ids, so each coordinator replica that runs it on the same metadata
 * computes the same answer, whatever the order of the assignments it is given. Stateless and
 * thread-safe.
 *
 * <h2>Constraints</h2>
 *
 * <ul>
 *   <li>No node holds two replicas of one partition.
 *   <li>Only live nodes receive new replicas.
 *   <li>A new topic's replication factor is between 1 and the number of live nodes; otherwise {@link
 *       #place} throws a {@link PlacementException}.
 * </ul>
 *
 * <h2>Goals</h2>
 *
 * In priority order; an earlier goal wins where two conflict.
 *
 * <ol>
 *   <li>Replicas are spread evenly over the live nodes, counting what each already holds in the whole
 *       cluster: a node with fewer replicas gets new ones first, so uneven load is worked off.
 *   <li>Preferred leaders are spread evenly over the live nodes, counting the partitions each already
 *       leads.
 *   <li>A topic's leaders are spread: among nodes equal on both counts, a partition's leader is the one
 *       leading fewest partitions of this topic, then the next one round the ring of live nodes (in id
 *       order) after the previous partition's leader. On an even cluster successive partitions of a topic
 *       thus start on different nodes, like Kafka's striping; on a skewed one, goal 2 works the skew off
 *       first (a node that joined empty leads most new partitions until it has caught up).
 *   <li>Same input, same output.
 * </ol>
 *
 * Starting from an empty cluster, any sequence of {@link #place} calls on the same live nodes (any
 * replication factors, any partition counts) keeps both the replica counts and the preferred-leader
 * counts of the live nodes within one of each other, and no topic has two successive partitions with the
 * same leader when there are two or more nodes. The properties in the tests check this.
 *
 * <h2>Algorithm</h2>
 *
 * {@link #place}: for each new partition, let {@code t} be the {@code replicationFactor}-th smallest
 * replica count. The replicas are the nodes below {@code t} plus as many at {@code t} as needed, so
 * every partition takes its replicas from the least-loaded nodes (goal 1). The leader is, among the
 * nodes at or below {@code t}, the one leading fewest partitions (goal 2), then holding <em>most</em>
 * replicas, then striping (goal 3). The remaining replicas at {@code t} are the nodes leading
 * <em>most</em> partitions, then the nearest after the leader round the ring. Both "most" rules keep, on a
 * cluster that started empty, this invariant: a node that leads fewer partitions than another never
 * holds more replicas. It is why the least-loaded nodes always include a least-led one, so goal 2 never
 * has to give way to goal 1 there. The counts are updated after every partition.
 *
 * <p>{@link #replaceDeadReplicas}: partition by partition, in topic and partition order, each dead
 * replica is replaced by the live non-replica with fewest replicas (then fewest leaderships, then lowest
 * id), and the counts are updated.
 *
 * <p>{@link #balancePreferredLeaders}: see {@link LeaderBalancer}; it moves leaderships along chains of
 * partitions until no chain can take one from a node to a node leading at least two fewer, which
 * gives the most even spread the replica sets allow. With a cap on the moves it stops early, and calling
 * it again on the applied answer goes on from there.
 */
public final class ReplicaPlacement {
    private static final Comparator<Assignment> BY_TOPIC_AND_PARTITION =
            Comparator.comparing(Assignment::topic).thenComparingInt(Assignment::partition);

    private ReplicaPlacement() {}

    /**
     * Replicas for {@code count} new partitions of {@code topic}, numbered from {@code firstPartition}.
     * Existing partitions of the topic in {@code load} count for striping and load (as when partitions
     * are added to a topic).
     *
     * @return one assignment per new partition, in partition order
     * @throws PlacementException when {@code replicationFactor} is below 1 or above the number of live
     *     nodes; its message is meant for the client with {@code INVALID_REPLICATION_FACTOR}
     * @throws IllegalArgumentException when {@code firstPartition} or {@code count} is negative or one
     *     of the new partitions already has an assignment in {@code load}
     */
    public static List<Assignment> place(
            ClusterLoad load, String topic, int firstPartition, int count, int replicationFactor) {
        Objects.requireNonNull(load, "load");
        Objects.requireNonNull(topic, "topic");
        int liveNodeCount = load.liveNodes().size();
        if (replicationFactor < 1) {
            throw new PlacementException("Replication factor must be larger than 0.");
        }
        if (replicationFactor > liveNodeCount) {
            throw new PlacementException("Replication factor: " + replicationFactor + " larger than available brokers: "
                    + liveNodeCount + ".");
        }
        if (firstPartition < 0 || count < 0 || count > Integer.MAX_VALUE - firstPartition) {
            throw new IllegalArgumentException(
                    "cannot place " + count + " partitions of " + topic + " from partition " + firstPartition);
        }
        NodeLoads loads = NodeLoads.of(load);
        int[] topicLeaderCounts = new int[loads.size()];
        int previousLeaderSlot = -1;
        for (Assignment existing : load.assignments()) {
            if (!existing.topic().equals(topic)) {
                continue;
            }
            if (existing.partition() >= firstPartition && existing.partition() - firstPartition < count) {
                throw new IllegalArgumentException(
                        topic + "-" + existing.partition() + " is already assigned: " + existing.replicas());
            }
            int leaderSlot = loads.slotOf(existing.preferredLeader());
            if (leaderSlot >= 0) {
                topicLeaderCounts[leaderSlot]++;
                if (existing.partition() == firstPartition - 1) {
                    previousLeaderSlot = leaderSlot;
                }
            }
        }
        List<Assignment> placed = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int[] slots = chooseReplicas(loads, topicLeaderCounts, previousLeaderSlot, replicationFactor);
            List<Integer> replicas = new ArrayList<>(slots.length);
            for (int slot : slots) {
                loads.addReplica(slot);
                replicas.add(loads.nodeId(slot));
            }
            loads.addLeader(slots[0]);
            topicLeaderCounts[slots[0]]++;
            previousLeaderSlot = slots[0];
            placed.add(new Assignment(topic, firstPartition + i, replicas));
        }
        return placed;
    }

    /**
     * The slots of one new partition's replicas, leader first, then the others in ring order after the
     * leader. Does not update the counts.
     */
    private static int[] chooseReplicas(
            NodeLoads loads, int[] topicLeaderCounts, int previousLeaderSlot, int replicationFactor) {
        int threshold = loads.replicaCountOfRank(replicationFactor);
        Comparator<Integer> leaderOrder = Comparator.<Integer>comparingInt(loads::leaderCount)
                .thenComparing(
                        Comparator.<Integer>comparingInt(loads::replicaCount).reversed())
                .thenComparingInt(slot -> topicLeaderCounts[slot])
                .thenComparingInt(slot -> loads.ringDistance(previousLeaderSlot, slot));
        List<Integer> candidates = new ArrayList<>();
        for (int slot = 0; slot < loads.size(); slot++) {
            if (loads.replicaCount(slot) <= threshold) {
                candidates.add(slot);
            }
        }
        int leader = candidates.stream().min(leaderOrder).orElseThrow();
        // Nodes below the threshold must all be taken; fewer than replicationFactor of them exist.
        Comparator<Integer> followerOrder = Comparator.<Integer>comparingInt(
                        slot -> loads.replicaCount(slot) < threshold ? 0 : 1)
                .thenComparing(
                        Comparator.<Integer>comparingInt(loads::leaderCount).reversed())
                .thenComparingInt(slot -> loads.ringDistance(leader, slot));
        candidates.remove(Integer.valueOf(leader));
        candidates.sort(followerOrder);
        List<Integer> followers = new ArrayList<>(candidates.subList(0, replicationFactor - 1));
        followers.sort(Comparator.comparingInt(slot -> loads.ringDistance(leader, slot)));
        int[] slots = new int[replicationFactor];
        slots[0] = leader;
        for (int i = 1; i < replicationFactor; i++) {
            slots[i] = followers.get(i - 1);
        }
        return slots;
    }

    /**
     * New replica lists for the partitions that have replicas on nodes that are not live. A new list
     * holds the live replicas in their old order (so a live preferred leader stays first, and a dead one
     * gives way to the first live replica), then, for each dead replica in its old order, the live
     * non-replica with fewest replicas (then fewest leaderships, then lowest id) or, when every live node
     * is already a replica, the dead replica itself: the replication factor cannot be restored yet.
     *
     * <p>Placement does not reason about quorums: when most replicas of a partition are dead its Raft
     * group cannot commit a new membership, and when all are its data is gone. Whether to apply such an
     * answer is the caller's decision.
     *
     * @return the changed assignments, in topic and partition order; partitions without a dead replica,
     *     or whose list would stay the same, are left out
     */
    public static List<Assignment> replaceDeadReplicas(ClusterLoad load) {
        Objects.requireNonNull(load, "load");
        NodeLoads loads = NodeLoads.of(load);
        List<Assignment> changed = new ArrayList<>();
        for (Assignment assignment : sorted(load.assignments())) {
            List<Integer> live = new ArrayList<>();
            List<Integer> dead = new ArrayList<>();
            for (int node : assignment.replicas()) {
                (loads.slotOf(node) >= 0 ? live : dead).add(node);
            }
            if (dead.isEmpty()) {
                continue;
            }
            Set<Integer> members = new HashSet<>(assignment.replicas());
            List<Integer> replicas = new ArrayList<>(live);
            for (int deadNode : dead) {
                int slot = leastLoadedNonMember(loads, members);
                if (slot < 0) {
                    replicas.add(deadNode);
                } else {
                    int node = loads.nodeId(slot);
                    members.add(node);
                    replicas.add(node);
                    loads.addReplica(slot);
                }
            }
            if (replicas.equals(assignment.replicas())) {
                continue;
            }
            int newLeaderSlot = loads.slotOf(replicas.get(0));
            if (newLeaderSlot >= 0) {
                loads.addLeader(newLeaderSlot);
            }
            changed.add(new Assignment(assignment.topic(), assignment.partition(), replicas));
        }
        return changed;
    }

    private static int leastLoadedNonMember(NodeLoads loads, Set<Integer> members) {
        int best = -1;
        for (int slot = 0; slot < loads.size(); slot++) {
            if (members.contains(loads.nodeId(slot))) {
                continue;
            }
            if (best < 0
                    || loads.replicaCount(slot) < loads.replicaCount(best)
                    || (loads.replicaCount(slot) == loads.replicaCount(best)
                            && loads.leaderCount(slot) < loads.leaderCount(best))) {
                best = slot;
            }
        }
        return best;
    }

    /**
     * Preferred-leader reassignment suggestions: reorders replica lists, never changing which nodes
     * they hold, so that the numbers of partitions whose first replica is each live node are as even as
     * the replica sets allow. A partition whose preferred leader is dead gets a live one when it has a
     * live replica; a partition without a live replica is left alone and not counted.
     *
     * <p>The result is optimal in a strong sense: no other choice of one live replica per partition has
     * a smaller largest count, nor a larger smallest count. So the largest and smallest count over all
     * live nodes differ by at most one whenever some choice achieves that; it cannot when, for instance,
     * a live node holds no replica while some node must lead two partitions. A new leader is moved to the
     * front; the other replicas keep their order.
     *
     * @return the changed assignments, in topic and partition order
     */
    public static List<Assignment> balancePreferredLeaders(ClusterLoad load) {
        return balancePreferredLeaders(load, Integer.MAX_VALUE);
    }

    /**
     * {@link #balancePreferredLeaders(ClusterLoad)} in bounded steps, so that a large cluster does not
     * move many leaderships at once: at most {@code movesMax} partitions whose preferred leader is live
     * get another one, or one chain of moves when even the first chain is longer (a chain is shorter than
     * the number of live nodes). Partitions whose preferred leader is not live get a live one whatever
     * the cap, and do not count against it. Applying the answer and calling again, until the answer is
     * empty, ends with the leader counts one uncapped call gives.
     *
     * @param movesMax at least 1
     * @return the changed assignments, in topic and partition order
     * @throws IllegalArgumentException when {@code movesMax} is below 1
     */
    public static List<Assignment> balancePreferredLeaders(ClusterLoad load, int movesMax) {
        Objects.requireNonNull(load, "load");
        return new LeaderBalancer(load.liveNodes(), sorted(load.assignments()), movesMax).balance();
    }

    private static List<Assignment> sorted(List<Assignment> assignments) {
        List<Assignment> sorted = new ArrayList<>(assignments);
        sorted.sort(BY_TOPIC_AND_PARTITION);
        return sorted;
    }
}
