package dev.sluice.coordinator;

import java.util.List;

/**
 * A read-only request to the coordinator group's leader: {@code heartbeat} (a node says it is alive and
 * reports the partitions it leads; the answer is a {@link HeartbeatReply}) or {@code image} (the
 * answer is an {@link ImageReply}). Queries are not Raft entries.
 */
public record CoordinatorQuery(String kind, int nodeId, List<PartitionLeadership> leaders) {
    public static final String HEARTBEAT = "heartbeat";
    public static final String IMAGE = "image";

    /** The answer to a heartbeat: the image version the leader has applied and every partition's leadership. */
    public record HeartbeatReply(long imageVersion, List<PartitionLeadership> leaders) {}

    /** The leader's image and the Raft entry it reflects. */
    public record ImageReply(long term, long index, ClusterImage image) {}
}
