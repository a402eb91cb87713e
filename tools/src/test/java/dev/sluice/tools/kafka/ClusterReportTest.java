package dev.sluice.tools.kafka;

import static dev.sluice.tools.kafka.TopicReportTest.N1;
import static dev.sluice.tools.kafka.TopicReportTest.N2;
import static dev.sluice.tools.kafka.TopicReportTest.N3;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;

class ClusterReportTest {
    /** Node 3 is down: it holds replicas but is not among the live nodes. */
    private static ClusterReport report() {
        TopicDescription events = new TopicDescription(
                "events",
                false,
                List.of(
                        new TopicPartitionInfo(0, N2, List.of(N2, N1), List.of(N2, N1)),
                        new TopicPartitionInfo(1, Node.noNode(), List.of(N3), List.of(N3))));
        return ClusterReport.of("c-1", N1, List.of(N2, N1), List.of(TopicReportTest.orders(), events));
    }

    @Test
    void shouldCountLeadersAndReplicasPerNodeIncludingNodesThatAreNotLive() {
        assertThat(report().nodes())
                .containsExactly(
                        new ClusterReport.NodeRow(1, "h1", 9092, null, true, 1, 3),
                        new ClusterReport.NodeRow(2, "h2", 9092, "rack-b", true, 1, 3),
                        new ClusterReport.NodeRow(3, null, -1, null, false, 0, 3));
    }

    @Test
    void shouldFindUnderReplicatedAndOfflinePartitions() {
        ClusterReport report = report();

        assertThat(report.problems())
                .extracting(p -> p.topic() + "-" + p.partition() + " ur=" + p.underReplicated() + " off=" + p.offline())
                .containsExactly("events-1 ur=false off=true", "orders-1 ur=true off=true");
        assertThat(report.underReplicatedCount()).isEqualTo(1);
        assertThat(report.offlineCount()).isEqualTo(2);
    }

    @Test
    void shouldPrintAlignedNodeAndProblemTables() {
        assertThat(report().textLines())
                .containsExactly(
                        "Cluster id:  c-1",
                        "Controller:  1 (h1:9092)",
                        "Nodes:",
                        "  NODE  HOST:PORT   RACK    LEADERS  REPLICAS",
                        "  1     h1:9092     -       1        3",
                        "  2     h2:9092     rack-b  1        3",
                        "  3     (not live)  -       0        3",
                        "Topics: 2  Partitions: 4  Under-replicated: 1  Offline: 2",
                        "Partitions with problems:",
                        "  TOPIC   PARTITION  LEADER  REPLICAS  ISR  PROBLEM",
                        "  events  1          none    3         3    offline",
                        "  orders  1          none    2,3,1     2    offline, under-replicated");
    }

    @Test
    void shouldPrintNoProblemTableForAHealthyClusterWithoutController() {
        ClusterReport healthy = ClusterReport.of(null, Node.noNode(), List.of(N1), List.of());

        assertThat(healthy.textLines())
                .containsExactly(
                        "Cluster id:  -",
                        "Controller:  none",
                        "Nodes:",
                        "  NODE  HOST:PORT  RACK  LEADERS  REPLICAS",
                        "  1     h1:9092    -     0        0",
                        "Topics: 0  Partitions: 0  Under-replicated: 0  Offline: 0");
    }

    @Test
    void shouldWriteClusterNodeProblemAndSummaryObjectsAsJsonLines() {
        List<String> lines = report().jsonLines(new ObjectMapper()).stream()
                .map(ObjectNode::toString)
                .toList();

        assertThat(lines)
                .containsExactly(
                        "{\"type\":\"cluster\",\"clusterId\":\"c-1\",\"controller\":{\"id\":1,\"host\":\"h1\",\"port\":9092}}",
                        "{\"type\":\"node\",\"id\":1,\"host\":\"h1\",\"port\":9092,\"rack\":null,\"live\":true,\"leaders\":1,\"replicas\":3}",
                        "{\"type\":\"node\",\"id\":2,\"host\":\"h2\",\"port\":9092,\"rack\":\"rack-b\",\"live\":true,\"leaders\":1,\"replicas\":3}",
                        "{\"type\":\"node\",\"id\":3,\"host\":null,\"port\":null,\"rack\":null,\"live\":false,\"leaders\":0,\"replicas\":3}",
                        "{\"type\":\"partition\",\"topic\":\"events\",\"partition\":1,\"leader\":null,\"replicas\":[3],\"isr\":[3],\"underReplicated\":false,\"offline\":true}",
                        "{\"type\":\"partition\",\"topic\":\"orders\",\"partition\":1,\"leader\":null,\"replicas\":[2,3,1],\"isr\":[2],\"underReplicated\":true,\"offline\":true}",
                        "{\"type\":\"summary\",\"topics\":2,\"partitions\":4,\"underReplicated\":1,\"offline\":2}");
    }
}
