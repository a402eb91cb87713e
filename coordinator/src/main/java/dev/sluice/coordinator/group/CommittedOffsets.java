package dev.sluice.coordinator.group;

import dev.sluice.coordinator.group.GroupRecord.OffsetCommit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The committed offsets of every group of one {@code __consumer_offsets} partition: group → topic →
 * partition → the latest {@link OffsetCommit}. Kept sorted so listings and expiry run in the same order on
 * every replica. Not thread-safe.
 */
final class CommittedOffsets {
    private final TreeMap<String, TreeMap<String, TreeMap<Integer, OffsetCommit>>> byGroup = new TreeMap<>();

    void put(OffsetCommit commit) {
        byGroup.computeIfAbsent(commit.groupId(), g -> new TreeMap<>())
                .computeIfAbsent(commit.topic(), t -> new TreeMap<>())
                .put(commit.partition(), commit);
    }

    void remove(String groupId, String topic, int partition) {
        TreeMap<String, TreeMap<Integer, OffsetCommit>> topics = byGroup.get(groupId);
        if (topics == null) {
            return;
        }
        TreeMap<Integer, OffsetCommit> partitions = topics.get(topic);
        if (partitions == null) {
            return;
        }
        partitions.remove(partition);
        if (partitions.isEmpty()) {
            topics.remove(topic);
            if (topics.isEmpty()) {
                byGroup.remove(groupId);
            }
        }
    }

    /** The offset of a partition, or null. */
    OffsetCommit get(String groupId, String topic, int partition) {
        TreeMap<String, TreeMap<Integer, OffsetCommit>> topics = byGroup.get(groupId);
        if (topics == null) {
            return null;
        }
        TreeMap<Integer, OffsetCommit> partitions = topics.get(topic);
        return partitions == null ? null : partitions.get(partition);
    }

    boolean hasOffsets(String groupId) {
        return byGroup.containsKey(groupId);
    }

    /** The group's offsets by topic and partition; empty if none. */
    NavigableMap<String, TreeMap<Integer, OffsetCommit>> ofGroup(String groupId) {
        TreeMap<String, TreeMap<Integer, OffsetCommit>> topics = byGroup.get(groupId);
        return topics == null ? new TreeMap<>() : topics;
    }

    /** A copy of the group's offsets in topic and partition order. */
    List<OffsetCommit> listOfGroup(String groupId) {
        List<OffsetCommit> list = new ArrayList<>();
        for (Map<Integer, OffsetCommit> partitions : ofGroup(groupId).values()) {
            list.addAll(partitions.values());
        }
        return list;
    }

    /** Every offset in group, topic and partition order. */
    List<OffsetCommit> all() {
        List<OffsetCommit> list = new ArrayList<>();
        for (String groupId : byGroup.keySet()) {
            list.addAll(listOfGroup(groupId));
        }
        return list;
    }

    void clear() {
        byGroup.clear();
    }
}
