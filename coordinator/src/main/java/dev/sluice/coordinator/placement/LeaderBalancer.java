package dev.sluice.coordinator.placement;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Chooses one live replica of every partition as its preferred leader so that the live nodes lead numbers
 * of partitions that are as even as the replica sets allow. Backs {@link
 * ReplicaPlacement#balancePreferredLeaders}.
 *
 * <p>The problem is a semi-matching of partitions to nodes (Harvey, Ladner, Lovász and Tamir,
 * "Semi-matchings for bipartite graphs and load balancing", 2003). Their result: a choice minimizes every
 * convex cost of the counts at once (so its largest count is the smallest possible and its smallest count
 * the largest possible) exactly when there is no <em>improving chain</em>: nodes {@code u = n0, n1, ...,
 * nk = v} where {@code n(i)} leads a partition that has {@code n(i+1)} as a replica, and {@code u} leads
 * at least two more partitions than {@code v}. Shifting the leaderships along such a chain takes one from
 * {@code u}, gives one to {@code v} and leaves the nodes between unchanged.
 *
 * <p>Algorithm: start from the current preferred leaders (the first live replica where the first is
 * dead). Repeatedly take the most-loaded node (then lowest id) that still has an improving chain, find by
 * breadth-first search (partitions in topic and partition order, replicas in list order) the node leading
 * fewest partitions it can reach, the nearest on a tie, and shift along the chain to it. Each shift lowers
 * the sum of squared counts by at least two, so this ends, and it ends only when no improving chain is
 * left, so the choice is optimal. A leadership moves only as part of a chain that strictly evens the
 * counts, from a most-loaded node to a least-loaded one, which keeps moves few; an optimal choice is left
 * exactly as it is.
 *
 * <p>Bounded moves: the caller may cap how many partitions whose preferred leader is live get a new
 * one. Shifting stops before a chain would take that count past the cap, except for the first chain, so
 * every call on an uneven choice makes progress: a chain visits distinct nodes, so it is shorter than the
 * number of live nodes. As every shift strictly lowers the sum of squared counts, calling again on the
 * applied result (as the controller does, pass after pass) ends at the same counts as one uncapped call.
 * Partitions whose preferred leader is not live get a live one whatever the cap, and do not count
 * against it.
 *
 * <p>Not thread-safe; one instance serves one call.
 */
final class LeaderBalancer {
    private final List<Assignment> assignments;
    private final int[] nodeIds;
    /** By index in {@link #assignments}: the slots of its live replicas in list order. */
    private final int[][] liveReplicaSlots;
    /** By index in {@link #assignments}: the slot of its chosen leader, or -1 when it has no live replica. */
    private final int[] leaderSlot;
    /** By slot: the indexes in {@link #assignments} of the partitions the node leads, ascending. */
    private final List<SortedSet<Integer>> ledPartitions;
    /** By index in {@link #assignments}: the slot of its current preferred leader, or -1 when not live. */
    private final int[] originalSlot;
    /** The most partitions with a live preferred leader whose leader may change (see the class doc). */
    private final int movesMax;
    /** How many partitions with a live preferred leader are now led by another node. */
    private int moved;

    private boolean shiftedOnce;

    /**
     * @param liveNodes the nodes that can lead
     * @param assignments every partition, in topic and partition order
     * @param movesMax the most partitions with a live preferred leader to give another one (at least 1)
     */
    LeaderBalancer(SortedSet<Integer> liveNodes, List<Assignment> assignments, int movesMax) {
        if (movesMax < 1) {
            throw new IllegalArgumentException("movesMax must be at least 1, was " + movesMax);
        }
        this.assignments = assignments;
        this.movesMax = movesMax;
        this.originalSlot = new int[assignments.size()];
        this.nodeIds = liveNodes.stream().mapToInt(Integer::intValue).toArray();
        this.liveReplicaSlots = new int[assignments.size()][];
        this.leaderSlot = new int[assignments.size()];
        this.ledPartitions = new ArrayList<>(nodeIds.length);
        for (int slot = 0; slot < nodeIds.length; slot++) {
            ledPartitions.add(new TreeSet<>());
        }
        for (int index = 0; index < assignments.size(); index++) {
            liveReplicaSlots[index] = assignments.get(index).replicas().stream()
                    .mapToInt(node -> Arrays.binarySearch(nodeIds, node))
                    .filter(slot -> slot >= 0)
                    .toArray();
            leaderSlot[index] = liveReplicaSlots[index].length == 0 ? -1 : liveReplicaSlots[index][0];
            originalSlot[index] =
                    Arrays.binarySearch(nodeIds, assignments.get(index).preferredLeader());
            if (originalSlot[index] < 0) {
                originalSlot[index] = -1;
            }
            if (leaderSlot[index] >= 0) {
                ledPartitions.get(leaderSlot[index]).add(index);
            }
        }
    }

    /** Balances and returns the assignments whose preferred leader changed, in their input order. */
    List<Assignment> balance() {
        while (shiftOneImprovingChain()) {
            // Each shift strictly lowers the sum of squared counts.
        }
        List<Assignment> changed = new ArrayList<>();
        for (int index = 0; index < assignments.size(); index++) {
            Assignment assignment = assignments.get(index);
            if (leaderSlot[index] < 0 || nodeIds[leaderSlot[index]] == assignment.preferredLeader()) {
                continue;
            }
            int leader = nodeIds[leaderSlot[index]];
            List<Integer> replicas = new ArrayList<>(assignment.replicas().size());
            replicas.add(leader);
            for (int node : assignment.replicas()) {
                if (node != leader) {
                    replicas.add(node);
                }
            }
            changed.add(new Assignment(assignment.topic(), assignment.partition(), replicas));
        }
        return changed;
    }

    private int count(int slot) {
        return ledPartitions.get(slot).size();
    }

    /** Finds an improving chain from the most-loaded node that has one and shifts along it. */
    private boolean shiftOneImprovingChain() {
        if (nodeIds.length == 0) {
            return false;
        }
        int minCount = Integer.MAX_VALUE;
        List<Integer> byLoad = new ArrayList<>(nodeIds.length);
        for (int slot = 0; slot < nodeIds.length; slot++) {
            minCount = Math.min(minCount, count(slot));
            byLoad.add(slot);
        }
        byLoad.sort(Comparator.comparingInt(this::count).reversed().thenComparingInt(slot -> slot));
        for (int from : byLoad) {
            if (count(from) < minCount + 2) {
                return false; // no node at or after this one can give a leadership away
            }
            int[] reachedVia = new int[nodeIds.length];
            int to = leastLoadedReachable(from, minCount, reachedVia);
            if (count(to) <= count(from) - 2) {
                if (shiftedOnce && moved + chainLength(from, to, reachedVia) > movesMax) {
                    return false; // the cap is reached; a later call goes on from the applied result
                }
                shift(from, to, reachedVia);
                shiftedOnce = true;
                return true;
            }
        }
        return false;
    }

    /**
     * Breadth-first search over chains from {@code from} for the node leading fewest partitions, the
     * nearest one on a tie; stops early at one leading {@code minCount}.
     *
     * @param reachedVia filled with, for every node reached, the index of the partition whose
     *     leadership it would take
     * @return the slot found, {@code from} itself when no other node is reachable
     */
    private int leastLoadedReachable(int from, int minCount, int[] reachedVia) {
        boolean[] seen = new boolean[nodeIds.length];
        seen[from] = true;
        int best = from;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(from);
        while (!queue.isEmpty()) {
            int node = queue.poll();
            for (int index : ledPartitions.get(node)) {
                for (int next : liveReplicaSlots[index]) {
                    if (seen[next]) {
                        continue;
                    }
                    seen[next] = true;
                    reachedVia[next] = index;
                    if (count(next) < count(best)) {
                        best = next;
                        if (count(best) == minCount) {
                            return best;
                        }
                    }
                    queue.add(next);
                }
            }
        }
        return best;
    }

    /** How many partitions change leader when shifting along the chain from {@code from} to {@code to}. */
    private int chainLength(int from, int to, int[] reachedVia) {
        int length = 0;
        for (int node = to; node != from; node = leaderSlot[reachedVia[node]]) {
            length++;
        }
        return length;
    }

    /** Moves each leadership on the chain one step towards {@code to}. */
    private void shift(int from, int to, int[] reachedVia) {
        int node = to;
        while (node != from) {
            int index = reachedVia[node];
            int previous = leaderSlot[index];
            ledPartitions.get(previous).remove(index);
            ledPartitions.get(node).add(index);
            leaderSlot[index] = node;
            if (originalSlot[index] >= 0) {
                moved += (node != originalSlot[index] ? 1 : 0) - (previous != originalSlot[index] ? 1 : 0);
            }
            node = previous;
        }
    }
}
