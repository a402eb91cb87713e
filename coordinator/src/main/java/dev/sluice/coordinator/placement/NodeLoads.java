package dev.sluice.coordinator.placement;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * How many replicas and preferred leaderships each live node holds, indexed by the node's position in
 * ascending id order (its <em>slot</em>). Replicas on nodes that are not live are not counted.
 *
 * <p>Not thread-safe; a scratch structure owned by one placement call.
 */
final class NodeLoads {
    private final int[] nodeIds;
    private final Map<Integer, Integer> slotOfNode;
    private final int[] replicaCounts;
    private final int[] leaderCounts;

    private NodeLoads(int[] nodeIds) {
        this.nodeIds = nodeIds;
        this.slotOfNode = new HashMap<>();
        for (int slot = 0; slot < nodeIds.length; slot++) {
            slotOfNode.put(nodeIds[slot], slot);
        }
        this.replicaCounts = new int[nodeIds.length];
        this.leaderCounts = new int[nodeIds.length];
    }

    /** Counts the replicas and preferred leaders of every assignment that sit on live nodes. */
    static NodeLoads of(ClusterLoad load) {
        NodeLoads loads = new NodeLoads(
                load.liveNodes().stream().mapToInt(Integer::intValue).toArray());
        for (Assignment assignment : load.assignments()) {
            for (int node : assignment.replicas()) {
                int slot = loads.slotOf(node);
                if (slot >= 0) {
                    loads.replicaCounts[slot]++;
                }
            }
            int leaderSlot = loads.slotOf(assignment.preferredLeader());
            if (leaderSlot >= 0) {
                loads.leaderCounts[leaderSlot]++;
            }
        }
        return loads;
    }

    int size() {
        return nodeIds.length;
    }

    /** The slot of a live node, or -1 when the node is not live. */
    int slotOf(int nodeId) {
        return slotOfNode.getOrDefault(nodeId, -1);
    }

    int nodeId(int slot) {
        return nodeIds[slot];
    }

    int replicaCount(int slot) {
        return replicaCounts[slot];
    }

    int leaderCount(int slot) {
        return leaderCounts[slot];
    }

    void addReplica(int slot) {
        replicaCounts[slot]++;
    }

    void addLeader(int slot) {
        leaderCounts[slot]++;
    }

    /** The {@code rank}-th smallest replica count (rank 1 is the minimum). */
    int replicaCountOfRank(int rank) {
        int[] sorted = replicaCounts.clone();
        Arrays.sort(sorted);
        return sorted[rank - 1];
    }

    /**
     * How far {@code slot} lies after {@code fromSlot} going round the ring of live nodes in id order:
     * 0 for the next node, {@code size() - 1} for {@code fromSlot} itself. With no {@code fromSlot}
     * (-1) the ring starts at the lowest id.
     */
    int ringDistance(int fromSlot, int slot) {
        return fromSlot < 0 ? slot : Math.floorMod(slot - fromSlot - 1, nodeIds.length);
    }
}
