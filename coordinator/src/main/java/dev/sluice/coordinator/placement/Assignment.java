package dev.sluice.coordinator.placement;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * One partition's replicas; the first is the preferred leader.
 *
 * <p>Invariants, checked on construction: the partition is not negative, there is at least one replica
 * and no node appears twice. The list is an immutable copy.
 *
 * @param topic the topic name
 * @param partition the partition number within the topic
 * @param replicas node ids of the replicas, preferred leader first
 */
public record Assignment(String topic, int partition, List<Integer> replicas) {
    public Assignment {
        Objects.requireNonNull(topic, "topic");
        replicas = List.copyOf(replicas);
        if (partition < 0) {
            throw new IllegalArgumentException("partition of " + topic + " must not be negative, was " + partition);
        }
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException(topic + "-" + partition + " has no replicas");
        }
        if (new HashSet<>(replicas).size() != replicas.size()) {
            throw new IllegalArgumentException(topic + "-" + partition + " lists a node twice: " + replicas);
        }
    }

    /** The preferred leader: the first replica. */
    public int preferredLeader() {
        return replicas.get(0);
    }
}
