package dev.sluice.tools.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

class TopicReportTest {
    static final Node N1 = new Node(1, "h1", 9092);
    static final Node N2 = new Node(2, "h2", 9092, "rack-b");
    static final Node N3 = new Node(3, "h3", 9092);
    static final Uuid ID = new Uuid(1, 2);

    static TopicDescription orders() {
        return new TopicDescription(
                "orders",
                false,
                List.of(
                        new TopicPartitionInfo(1, null, List.of(N2, N3, N1), List.of(N2)),
                        new TopicPartitionInfo(0, N1, List.of(N1, N2, N3), List.of(N1, N2, N3))),
                null,
                ID);
    }

    @Test
    void shouldPrintAHeadingAndAnAlignedRowPerPartitionInPartitionOrder() {
        Map<String, String> configs = new HashMap<>();
        configs.put("retention.ms", "1000");
        configs.put("cleanup.policy", "compact,delete");
        configs.put("sasl.secret", null);

        TopicReport report = TopicReport.of(orders(), Map.of(0, 7), configs, null);

        assertThat(report.textLines())
                .containsExactly(
                        "Topic: orders  TopicId: " + ID + "  PartitionCount: 2  ReplicationFactor: 3  Configs:"
                                + " cleanup.policy=compact,delete,retention.ms=1000,sasl.secret=(sensitive)",
                        "  PARTITION  LEADER  LEADER_EPOCH  REPLICAS  ISR",
                        "  0          1       7             1,2,3     1,2,3",
                        "  1          none    -             2,3,1     2");
    }

    @Test
    void shouldSayWhyConfigsAreMissingInsteadOfFailing() {
        TopicReport report = TopicReport.of(orders(), Map.of(), null, "not authorized");

        assertThat(report.textLines().get(0)).endsWith("Configs: (unavailable: not authorized)");
        assertThat(TopicReport.of(orders(), Map.of(), Map.of(), null)
                        .textLines()
                        .get(0))
                .endsWith("Configs: -");
    }

    @Test
    void shouldWriteATopicObjectThenOnePerPartitionAsJsonLines() {
        TopicReport report = TopicReport.of(orders(), Map.of(0, 7), Map.of("retention.ms", "1000"), null);

        List<ObjectNode> lines = report.jsonLines(new ObjectMapper());

        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).toString())
                .isEqualTo("{\"type\":\"topic\",\"topic\":\"orders\",\"topicId\":\"" + ID + "\",\"internal\":false,"
                        + "\"partitionCount\":2,\"replicationFactor\":3,\"configs\":{\"retention.ms\":\"1000\"}}");
        assertThat(lines.get(1).toString())
                .isEqualTo("{\"type\":\"partition\",\"topic\":\"orders\",\"partition\":0,\"leader\":1,"
                        + "\"leaderEpoch\":7,\"replicas\":[1,2,3],\"isr\":[1,2,3]}");
        assertThat(lines.get(2).toString())
                .isEqualTo("{\"type\":\"partition\",\"topic\":\"orders\",\"partition\":1,\"leader\":null,"
                        + "\"leaderEpoch\":null,\"replicas\":[2,3,1],\"isr\":[2]}");
    }

    @Test
    void shouldShowOnlyConfigsSetOnTheTopicItself() {
        Config config = new Config(List.of(
                entry("retention.ms", "1000", ConfigSource.DYNAMIC_TOPIC_CONFIG, false),
                entry("segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG, false),
                entry("min.insync.replicas", "2", ConfigSource.STATIC_BROKER_CONFIG, false),
                entry("some.password", "hunter2", ConfigSource.DYNAMIC_TOPIC_CONFIG, true)));

        Map<String, String> overrides = TopicDescriber.overrides(config);

        assertThat(overrides).containsOnlyKeys("retention.ms", "some.password");
        assertThat(overrides.get("retention.ms")).isEqualTo("1000");
        assertThat(overrides.get("some.password")).isNull();
    }

    private static ConfigEntry entry(String name, String value, ConfigSource source, boolean sensitive) {
        return new ConfigEntry(name, value, source, sensitive, false, List.of(), ConfigEntry.ConfigType.STRING, null);
    }
}
