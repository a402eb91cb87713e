package dev.sluice.chaos.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a node's {@code GET /status} says: its id, the coordinator group's leader as it sees it ({@code -1} if
 * unknown), whether it votes in the coordinator group, the partitions it leads now, and every replica it holds
 * with how far its log and high watermark reach.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NodeStatus(
        int nodeId,
        int coordinatorLeader,
        boolean coordinatorVoter,
        List<Led> leaders,
        int replicas,
        List<Replica> partitions) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public NodeStatus {
        leaders = leaders == null ? List.of() : List.copyOf(leaders);
        partitions = partitions == null ? List.of() : List.copyOf(partitions);
    }

    /** One partition the node leads, with its leader epoch. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Led(String topic, int partition, long leaderEpoch) {}

    /** One replica the node holds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Replica(
            String topic, int partition, int leader, long leaderEpoch, long highWatermark, long logEndOffset) {}

    /** @return the {@code /status} of the node whose HTTP endpoint is on 127.0.0.1:{@code httpPort}, if it answers */
    public static Optional<NodeStatus> fetch(int httpPort) {
        try {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/status"))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return Optional.empty();
            }
            return Optional.of(JSON.readValue(response.body(), NodeStatus.class));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
