package dev.sluice.broker.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records the partition data path into a {@link MetricsRegistry}:
 *
 * <ul>
 *   <li>{@code sluice_raft_commit_latency_ms}: histogram, from submitting a produce's batches for one
 *       partition to its Raft group until they are committed on a majority and applied on this node
 *       (successful writes only);
 *   <li>{@code sluice_produce_bytes_total{topic}}: record bytes appended by Produce requests;
 *   <li>{@code sluice_fetch_bytes_total{topic}}: record bytes returned to Fetch requests.
 * </ul>
 *
 * <p>Thread-safe; the series of a topic is looked up once and then cached.
 */
public final class PartitionMetrics {
    private final Histogram.Child commitLatencyMs;
    private final Counter produceBytes;
    private final Counter fetchBytes;
    private final Map<String, Counter.Child> produceBytesByTopic = new ConcurrentHashMap<>();
    private final Map<String, Counter.Child> fetchBytesByTopic = new ConcurrentHashMap<>();

    public PartitionMetrics(MetricsRegistry registry) {
        this.commitLatencyMs = registry.histogram(
                        "sluice_raft_commit_latency_ms",
                        "Time from submitting a produce's batches to the partition's Raft group until they are"
                                + " committed on a majority and applied, in milliseconds",
                        Histogram.latencyMsBuckets())
                .labels();
        this.produceBytes = registry.counter(
                "sluice_produce_bytes_total", "Record bytes appended by Produce requests, by topic", "topic");
        this.fetchBytes = registry.counter(
                "sluice_fetch_bytes_total", "Record bytes returned to Fetch requests, by topic", "topic");
    }

    /** A write that took {@code latencyNs} from submission to commit and apply. */
    public void committed(long latencyNs) {
        commitLatencyMs.observe(latencyNs / 1_000_000.0);
    }

    public void produced(String topic, long bytes) {
        produceBytesByTopic.computeIfAbsent(topic, t -> produceBytes.labels(t)).inc(bytes);
    }

    public void fetched(String topic, long bytes) {
        fetchBytesByTopic.computeIfAbsent(topic, t -> fetchBytes.labels(t)).inc(bytes);
    }
}
