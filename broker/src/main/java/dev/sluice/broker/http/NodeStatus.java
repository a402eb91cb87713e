package dev.sluice.broker.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What {@code GET /status} reports about a node: enough for a chaos harness to aim a fault at "the leader of
 * partition X" or "the coordinator group's leader".
 *
 * @param nodeId this node's id
 * @param coordinatorLeader the node id of the coordinator group's leader as this node sees it, -1 if unknown
 * @param coordinatorVoter whether this node is a voter of the coordinator group
 * @param leaders the partitions this node leads right now (its Raft leadership is ready), sorted
 * @param replicas how many partition replicas this node holds
 * @param partitions every partition replica this node holds, sorted: whom it follows and how far its log and
 *     high watermark reach (a harness waits until every replica of a partition reports the same before it
 *     compares their files)
 */
public record NodeStatus(
        int nodeId,
        int coordinatorLeader,
        boolean coordinatorVoter,
        List<Leadership> leaders,
        int replicas,
        List<Replica> partitions) {

    /**
     * One partition this node leads.
     *
     * @param topic the topic
     * @param partition the partition
     * @param leaderEpoch the leader epoch (Raft term) of this leadership
     */
    public record Leadership(String topic, int partition, long leaderEpoch) {}

    /**
     * One partition replica on this node.
     *
     * @param topic the topic
     * @param partition the partition
     * @param leader the node id of the leader this replica knows of, -1 if none
     * @param leaderEpoch the Raft term this replica is in
     * @param highWatermark the offset below which its records are committed and applied
     * @param logEndOffset the offset after its last record
     */
    public record Replica(
            String topic, int partition, int leader, long leaderEpoch, long highWatermark, long logEndOffset) {}

    public NodeStatus {
        leaders = List.copyOf(leaders);
        partitions = List.copyOf(partitions);
    }

    /** The JSON {@code GET /status} answers, fields in the order of this record. */
    String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("nodeId", nodeId);
        json.put("coordinatorLeader", coordinatorLeader);
        json.put("coordinatorVoter", coordinatorVoter);
        json.put(
                "leaders",
                leaders.stream()
                        .map(l -> {
                            Map<String, Object> entry = new LinkedHashMap<>();
                            entry.put("topic", l.topic());
                            entry.put("partition", l.partition());
                            entry.put("leaderEpoch", l.leaderEpoch());
                            return entry;
                        })
                        .toList());
        json.put("replicas", replicas);
        json.put(
                "partitions",
                partitions.stream()
                        .map(r -> {
                            Map<String, Object> entry = new LinkedHashMap<>();
                            entry.put("topic", r.topic());
                            entry.put("partition", r.partition());
                            entry.put("leader", r.leader());
                            entry.put("leaderEpoch", r.leaderEpoch());
                            entry.put("highWatermark", r.highWatermark());
                            entry.put("logEndOffset", r.logEndOffset());
                            return entry;
                        })
                        .toList());
        return Json.write(json);
    }

    /** {@code GET /status}: this node's {@link NodeStatus}, always served. */
    public static HttpRoute route(Supplier<NodeStatus> status) {
        Objects.requireNonNull(status, "status");
        return new HttpRoute() {
            @Override
            public boolean serves(String path) {
                return path.equals("/status");
            }

            @Override
            public HttpAnswer answer(String method, String path, Map<String, List<String>> parameters) {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    return HttpAnswer.methodNotAllowed("GET, HEAD");
                }
                return HttpAnswer.json(status.get().toJson());
            }

            @Override
            public String toString() {
                return "GET /status";
            }
        };
    }
}
