package dev.sluice.broker.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.broker.http.PrometheusTextParser.Family;
import dev.sluice.broker.http.PrometheusTextParser.Sample;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class KafkaRequestMetricsTest {
    private final MetricsRegistry registry = new MetricsRegistry();
    private final KafkaRequestMetrics metrics = new KafkaRequestMetrics(registry);

    private double value(Map<String, Family> families, String family, String sample, Map<String, String> labels) {
        return families.get(family).samples().stream()
                .filter(s -> s.name().equals(sample) && s.labels().equals(labels))
                .mapToDouble(Sample::value)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + sample + labels));
    }

    @Test
    void shouldRecordRequestsErrorsBytesLatencyAndConnections() {
        metrics.connectionOpened();
        metrics.connectionOpened();
        metrics.connectionClosed();
        metrics.completed(ApiKeys.PRODUCE, (short) 11, Map.of(Errors.NONE, 3), 1_000, 200, 2_000_000);
        metrics.completed(
                ApiKeys.PRODUCE,
                (short) 11,
                Map.of(Errors.NONE, 1, Errors.NOT_LEADER_OR_FOLLOWER, 2, Errors.UNKNOWN_TOPIC_OR_PARTITION, 1),
                500,
                100,
                40_000_000);
        metrics.completed(ApiKeys.PRODUCE, (short) 11, Map.of(), 300, 0, 100_000); // acks=0
        metrics.completed(ApiKeys.FETCH, (short) 16, Map.of(Errors.NONE, 1), 100, 5_000, 600_000_000);

        Map<String, Family> families = PrometheusTextParser.parse(registry.scrape());

        assertThat(value(
                        families,
                        "sluice_requests_total",
                        "sluice_requests_total",
                        Map.of("api", "Produce", "error", "NONE")))
                .isEqualTo(2);
        assertThat(value(
                        families,
                        "sluice_requests_total",
                        "sluice_requests_total",
                        Map.of("api", "Produce", "error", "NOT_LEADER_OR_FOLLOWER")))
                .isEqualTo(1);
        assertThat(value(
                        families,
                        "sluice_request_errors_total",
                        "sluice_request_errors_total",
                        Map.of("api", "Produce", "error", "NOT_LEADER_OR_FOLLOWER")))
                .isEqualTo(2);
        assertThat(value(
                        families,
                        "sluice_request_errors_total",
                        "sluice_request_errors_total",
                        Map.of("api", "Produce", "error", "NONE")))
                .isEqualTo(4);
        assertThat(value(
                        families, "sluice_request_bytes_total", "sluice_request_bytes_total", Map.of("api", "Produce")))
                .isEqualTo(1_800);
        assertThat(value(
                        families, "sluice_response_bytes_total", "sluice_response_bytes_total", Map.of("api", "Fetch")))
                .isEqualTo(5_000);
        assertThat(value(
                        families,
                        "sluice_request_latency_ms",
                        "sluice_request_latency_ms_count",
                        Map.of("api", "Produce")))
                .isEqualTo(3);
        assertThat(value(
                        families,
                        "sluice_request_latency_ms",
                        "sluice_request_latency_ms_bucket",
                        Map.of("api", "Produce", "le", "2.5")))
                .isEqualTo(2);
        assertThat(value(
                        families,
                        "sluice_request_latency_ms",
                        "sluice_request_latency_ms_bucket",
                        Map.of("api", "Fetch", "le", "500")))
                .isEqualTo(0);
        assertThat(value(
                        families, "sluice_request_latency_ms", "sluice_request_latency_ms_sum", Map.of("api", "Fetch")))
                .isEqualTo(600);
        assertThat(value(families, "sluice_connections", "sluice_connections", Map.of()))
                .isEqualTo(1);
        MetricsRegistryTest.assertHistogramsWellFormed(families);
    }
}
