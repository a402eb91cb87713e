package dev.sluice.coordinator;

import java.util.List;

/**
 * Who leads a partition, as its leader reports it in heartbeats: the coordinator's leader keeps the
 * latest report of every partition and hands the table to every node, so a node can answer Metadata
 * for partitions it holds no replica of.
 */
public record PartitionLeadership(
        String topic, int partition, int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr) {}
