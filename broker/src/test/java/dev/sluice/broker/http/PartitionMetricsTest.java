package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.http.PrometheusTextParser.Family;
import dev.sluice.broker.http.PrometheusTextParser.Sample;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionMetricsTest {
    private final MetricsRegistry registry = new MetricsRegistry();
    private final PartitionMetrics metrics = new PartitionMetrics(registry);

    private static double value(
            Map<String, Family> families, String family, String sample, Map<String, String> labels) {
        return families.get(family).samples().stream()
                .filter(s -> s.name().equals(sample) && s.labels().equals(labels))
                .mapToDouble(Sample::value)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + sample + labels));
    }

    @Test
    void shouldRecordCommitLatencyAndBytesByTopic() {
        Map<String, Family> empty = PrometheusTextParser.parse(registry.scrape());
        assertThat(empty.get("sluice_raft_commit_latency_ms").type()).isEqualTo("histogram");
        assertThat(value(empty, "sluice_raft_commit_latency_ms", "sluice_raft_commit_latency_ms_count", Map.of()))
                .isZero();

        metrics.committed(3_000_000);
        metrics.committed(40_000_000);
        metrics.produced("orders", 1_000);
        metrics.produced("orders", 500);
        metrics.produced("events", 7);
        metrics.fetched("orders", 1_200);

        Map<String, Family> families = PrometheusTextParser.parse(registry.scrape());
        assertThat(value(families, "sluice_raft_commit_latency_ms", "sluice_raft_commit_latency_ms_count", Map.of()))
                .isEqualTo(2);
        assertThat(value(families, "sluice_raft_commit_latency_ms", "sluice_raft_commit_latency_ms_sum", Map.of()))
                .isEqualTo(43);
        assertThat(value(
                        families,
                        "sluice_raft_commit_latency_ms",
                        "sluice_raft_commit_latency_ms_bucket",
                        Map.of("le", "5")))
                .isEqualTo(1);
        assertThat(value(
                        families,
                        "sluice_produce_bytes_total",
                        "sluice_produce_bytes_total",
                        Map.of("topic", "orders")))
                .isEqualTo(1_500);
        assertThat(value(
                        families,
                        "sluice_produce_bytes_total",
                        "sluice_produce_bytes_total",
                        Map.of("topic", "events")))
                .isEqualTo(7);
        assertThat(value(families, "sluice_fetch_bytes_total", "sluice_fetch_bytes_total", Map.of("topic", "orders")))
                .isEqualTo(1_200);
        MetricsRegistryTest.assertHistogramsWellFormed(families);
    }
}
