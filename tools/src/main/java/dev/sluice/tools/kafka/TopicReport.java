package dev.sluice.tools.kafka;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * What {@code sluice topics describe} prints for one topic, built from the Admin results and rendered
 * as aligned text or JSON Lines. Pure: no client calls.
 *
 * @param topic the topic's name
 * @param topicId the topic id, or null when the cluster does not report one
 * @param internal whether the cluster marks the topic internal
 * @param partitions one row per partition, by partition number
 * @param configs the topic's own config overrides, by key; a null value is a sensitive one
 * @param configsProblem why the configs could not be read, or null
 */
public record TopicReport(
        String topic,
        String topicId,
        boolean internal,
        List<PartitionRow> partitions,
        SortedMap<String, String> configs,
        String configsProblem) {

    /**
     * One partition.
     *
     * @param leader the leader's node id, or null when the partition has no leader
     * @param leaderEpoch the leader epoch, or null when the cluster does not report it
     */
    public record PartitionRow(
            int partition, Integer leader, Integer leaderEpoch, List<Integer> replicas, List<Integer> isr) {
        public PartitionRow {
            replicas = List.copyOf(replicas);
            isr = List.copyOf(isr);
        }
    }

    public TopicReport {
        partitions = List.copyOf(partitions);
        configs = configs == null ? new TreeMap<>() : new TreeMap<>(configs);
    }

    /**
     * @param leaderEpochs leader epoch by partition, for the partitions where it is known
     * @param configs the topic's config overrides (null values are sensitive), or null when unreadable
     */
    public static TopicReport of(
            TopicDescription description,
            Map<Integer, Integer> leaderEpochs,
            Map<String, String> configs,
            String configsProblem) {
        List<PartitionRow> rows = new ArrayList<>();
        for (TopicPartitionInfo info : description.partitions()) {
            rows.add(new PartitionRow(
                    info.partition(),
                    leaderId(info.leader()),
                    leaderEpochs.get(info.partition()),
                    ids(info.replicas()),
                    ids(info.isr())));
        }
        rows.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        SortedMap<String, String> sorted = new TreeMap<>();
        if (configs != null) {
            sorted.putAll(configs);
        }
        return new TopicReport(
                description.name(),
                description.topicId() == null ? null : description.topicId().toString(),
                description.isInternal(),
                rows,
                sorted,
                configsProblem);
    }

    /** Kafka's {@code ReplicationFactor}: the replica count of the first partition. */
    public int replicationFactor() {
        return partitions.isEmpty() ? 0 : partitions.get(0).replicas().size();
    }

    /** A heading line for the topic, then an aligned table of its partitions. */
    public List<String> textLines() {
        StringBuilder heading = new StringBuilder()
                .append("Topic: ")
                .append(topic)
                .append("  TopicId: ")
                .append(topicId == null ? "-" : topicId)
                .append("  PartitionCount: ")
                .append(partitions.size())
                .append("  ReplicationFactor: ")
                .append(replicationFactor());
        if (internal) {
            heading.append("  Internal: true");
        }
        heading.append("  Configs: ").append(configsText());
        TextTable table = new TextTable("  ", "PARTITION", "LEADER", "LEADER_EPOCH", "REPLICAS", "ISR");
        for (PartitionRow row : partitions) {
            table.add(
                    row.partition(),
                    row.leader() == null ? "none" : row.leader(),
                    row.leaderEpoch(),
                    joinIds(row.replicas()),
                    joinIds(row.isr()));
        }
        List<String> lines = new ArrayList<>();
        lines.add(heading.toString());
        lines.addAll(table.lines());
        return lines;
    }

    /** One JSON object for the topic, then one per partition. */
    public List<ObjectNode> jsonLines(ObjectMapper mapper) {
        ObjectNode head = mapper.createObjectNode()
                .put("type", "topic")
                .put("topic", topic)
                .put("topicId", topicId)
                .put("internal", internal)
                .put("partitionCount", partitions.size())
                .put("replicationFactor", replicationFactor());
        ObjectNode configNode = head.putObject("configs");
        configs.forEach(configNode::put);
        if (configsProblem != null) {
            head.put("configsProblem", configsProblem);
        }
        List<ObjectNode> lines = new ArrayList<>();
        lines.add(head);
        for (PartitionRow row : partitions) {
            ObjectNode node = mapper.createObjectNode()
                    .put("type", "partition")
                    .put("topic", topic)
                    .put("partition", row.partition())
                    .put("leader", row.leader())
                    .put("leaderEpoch", row.leaderEpoch());
            addIds(node.putArray("replicas"), row.replicas());
            addIds(node.putArray("isr"), row.isr());
            lines.add(node);
        }
        return lines;
    }

    private String configsText() {
        if (configsProblem != null) {
            return "(unavailable: " + configsProblem + ")";
        }
        if (configs.isEmpty()) {
            return "-";
        }
        return configs.entrySet().stream()
                .map(e -> e.getKey() + "=" + (e.getValue() == null ? "(sensitive)" : e.getValue()))
                .collect(Collectors.joining(","));
    }

    static Integer leaderId(Node leader) {
        return leader == null || leader.isEmpty() || leader.id() < 0 ? null : leader.id();
    }

    static List<Integer> ids(List<Node> nodes) {
        List<Integer> ids = new ArrayList<>(nodes.size());
        for (Node node : nodes) {
            ids.add(node.id());
        }
        return ids;
    }

    static String joinIds(List<Integer> ids) {
        return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    static void addIds(ArrayNode array, List<Integer> ids) {
        ids.forEach(array::add);
    }
}
