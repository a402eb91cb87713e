package dev.sluice.tools.kafka;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * What {@code sluice cluster status} prints: the cluster id, the controller, every node with the number
 * of partition leaders and replicas it holds, and the partitions with a problem: under-replicated (fewer
 * in-sync replicas than replicas) or offline (no leader). Nodes that hold replicas but are not among
 * the cluster's live nodes are listed too, marked not live. Pure: built from Admin results.
 */
public final class ClusterReport {
    /**
     * One node.
     *
     * @param live whether the cluster lists it among its nodes (a replica may name a node that is down)
     */
    public record NodeRow(int id, String host, int port, String rack, boolean live, int leaders, int replicas) {}

    /** A partition with at least one problem. */
    public record ProblemRow(
            String topic,
            int partition,
            Integer leader,
            List<Integer> replicas,
            List<Integer> isr,
            boolean underReplicated,
            boolean offline) {}

    private final String clusterId;
    private final Node controller;
    private final List<NodeRow> nodes;
    private final List<ProblemRow> problems;
    private final int topicCount;
    private final int partitionCount;

    private ClusterReport(
            String clusterId,
            Node controller,
            List<NodeRow> nodes,
            List<ProblemRow> problems,
            int topicCount,
            int partitionCount) {
        this.clusterId = clusterId;
        this.controller = controller;
        this.nodes = List.copyOf(nodes);
        this.problems = List.copyOf(problems);
        this.topicCount = topicCount;
        this.partitionCount = partitionCount;
    }

    /**
     * @param controller the controller the cluster reports, or null / {@code Node.noNode()} when none
     * @param liveNodes the nodes of {@code describeCluster}
     * @param topics the descriptions of all topics
     */
    public static ClusterReport of(
            String clusterId, Node controller, Collection<Node> liveNodes, Collection<TopicDescription> topics) {
        Map<Integer, Node> live = new TreeMap<>();
        liveNodes.forEach(node -> live.put(node.id(), node));
        Map<Integer, int[]> counts = new TreeMap<>();
        live.keySet().forEach(id -> counts.put(id, new int[2]));
        List<ProblemRow> problems = new ArrayList<>();
        int partitions = 0;
        List<TopicDescription> sorted = new ArrayList<>(topics);
        sorted.sort(Comparator.comparing(TopicDescription::name));
        for (TopicDescription topic : sorted) {
            List<TopicPartitionInfo> infos = new ArrayList<>(topic.partitions());
            infos.sort(Comparator.comparingInt(TopicPartitionInfo::partition));
            for (TopicPartitionInfo info : infos) {
                partitions++;
                Integer leader = TopicReport.leaderId(info.leader());
                if (leader != null) {
                    counts.computeIfAbsent(leader, id -> new int[2])[0]++;
                }
                for (Node replica : info.replicas()) {
                    counts.computeIfAbsent(replica.id(), id -> new int[2])[1]++;
                }
                boolean underReplicated = info.isr().size() < info.replicas().size();
                boolean offline = leader == null;
                if (underReplicated || offline) {
                    problems.add(new ProblemRow(
                            topic.name(),
                            info.partition(),
                            leader,
                            TopicReport.ids(info.replicas()),
                            TopicReport.ids(info.isr()),
                            underReplicated,
                            offline));
                }
            }
        }
        List<NodeRow> nodes = new ArrayList<>();
        counts.forEach((id, count) -> {
            Node node = live.get(id);
            nodes.add(
                    node == null
                            ? new NodeRow(id, null, -1, null, false, count[0], count[1])
                            : new NodeRow(id, node.host(), node.port(), node.rack(), true, count[0], count[1]));
        });
        Node knownController = controller == null || controller.isEmpty() || controller.id() < 0 ? null : controller;
        return new ClusterReport(clusterId, knownController, nodes, problems, topics.size(), partitions);
    }

    public List<NodeRow> nodes() {
        return nodes;
    }

    public List<ProblemRow> problems() {
        return problems;
    }

    public long underReplicatedCount() {
        return problems.stream().filter(ProblemRow::underReplicated).count();
    }

    public long offlineCount() {
        return problems.stream().filter(ProblemRow::offline).count();
    }

    public List<String> textLines() {
        List<String> lines = new ArrayList<>();
        lines.add("Cluster id:  " + (clusterId == null ? "-" : clusterId));
        lines.add("Controller:  "
                + (controller == null
                        ? "none"
                        : controller.id() + " (" + address(controller.host(), controller.port()) + ")"));
        lines.add("Nodes:");
        TextTable table = new TextTable("  ", "NODE", "HOST:PORT", "RACK", "LEADERS", "REPLICAS");
        for (NodeRow node : nodes) {
            table.add(
                    node.id(),
                    node.live() ? address(node.host(), node.port()) : "(not live)",
                    node.rack(),
                    node.leaders(),
                    node.replicas());
        }
        lines.addAll(table.lines());
        lines.add("Topics: " + topicCount + "  Partitions: " + partitionCount + "  Under-replicated: "
                + underReplicatedCount() + "  Offline: " + offlineCount());
        if (!problems.isEmpty()) {
            lines.add("Partitions with problems:");
            TextTable problemTable = new TextTable("  ", "TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "PROBLEM");
            for (ProblemRow row : problems) {
                problemTable.add(
                        row.topic(),
                        row.partition(),
                        row.leader() == null ? "none" : row.leader(),
                        TopicReport.joinIds(row.replicas()),
                        TopicReport.joinIds(row.isr()),
                        problemText(row));
            }
            lines.addAll(problemTable.lines());
        }
        return lines;
    }

    /** A {@code cluster} object, one {@code node} object per node, a {@code partition} object per problem, a {@code summary}. */
    public List<ObjectNode> jsonLines(ObjectMapper mapper) {
        List<ObjectNode> lines = new ArrayList<>();
        ObjectNode head = mapper.createObjectNode().put("type", "cluster").put("clusterId", clusterId);
        if (controller == null) {
            head.putNull("controller");
        } else {
            head.putObject("controller")
                    .put("id", controller.id())
                    .put("host", controller.host())
                    .put("port", controller.port());
        }
        lines.add(head);
        for (NodeRow node : nodes) {
            ObjectNode json = mapper.createObjectNode().put("type", "node").put("id", node.id());
            json.put("host", node.host()).put("port", node.live() ? node.port() : null);
            json.put("rack", node.rack())
                    .put("live", node.live())
                    .put("leaders", node.leaders())
                    .put("replicas", node.replicas());
            lines.add(json);
        }
        for (ProblemRow row : problems) {
            ObjectNode json = mapper.createObjectNode()
                    .put("type", "partition")
                    .put("topic", row.topic())
                    .put("partition", row.partition())
                    .put("leader", row.leader());
            TopicReport.addIds(json.putArray("replicas"), row.replicas());
            TopicReport.addIds(json.putArray("isr"), row.isr());
            json.put("underReplicated", row.underReplicated()).put("offline", row.offline());
            lines.add(json);
        }
        lines.add(mapper.createObjectNode()
                .put("type", "summary")
                .put("topics", topicCount)
                .put("partitions", partitionCount)
                .put("underReplicated", underReplicatedCount())
                .put("offline", offlineCount()));
        return lines;
    }

    private static String problemText(ProblemRow row) {
        if (row.offline() && row.underReplicated()) {
            return "offline, under-replicated";
        }
        return row.offline() ? "offline" : "under-replicated";
    }

    private static String address(String host, int port) {
        return (host != null && host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
