package dev.sluice.coordinator.placement;

import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What placement knows of the cluster: the live nodes and the current assignment of every partition.
 * The assignments are the load that placement evens out; replicas on nodes that are not live count for
 * nothing.
 *
 * <p>Invariants, checked on construction: no partition is listed twice. Both collections are immutable
 * copies; the live nodes keep ascending order.
 *
 * @param liveNodes ids of the nodes that can receive replicas and lead partitions
 * @param assignments the replicas of every existing partition of every topic
 */
public record ClusterLoad(SortedSet<Integer> liveNodes, List<Assignment> assignments) {
    public ClusterLoad {
        liveNodes = Collections.unmodifiableSortedSet(new TreeSet<>(Objects.requireNonNull(liveNodes, "liveNodes")));
        assignments = List.copyOf(assignments);
        Set<String> seen = new HashSet<>();
        for (Assignment assignment : assignments) {
            // A NUL cannot appear in a Kafka topic name, so the key is unambiguous.
            if (!seen.add(assignment.topic() + '\0' + assignment.partition())) {
                throw new IllegalArgumentException(
                        assignment.topic() + "-" + assignment.partition() + " is assigned twice in the cluster load");
            }
        }
    }
}
