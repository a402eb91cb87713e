package dev.sluice.tools.kafka;

import java.util.Map;

/**
 * Where a cluster command connects and how long it waits: the bootstrap servers, the extra client
 * settings of {@code --command-config}, and the bound on each request to the cluster.
 *
 * @param bootstrapServers {@code HOST:PORT[,HOST:PORT...]}, as given to {@code bootstrap.servers}
 * @param extraSettings client settings from {@code --command-config}; they override Sluice's defaults
 * @param timeoutMs the bound on each request (and on connecting), in milliseconds
 */
public record ClusterTarget(String bootstrapServers, Map<String, String> extraSettings, int timeoutMs) {
    public ClusterTarget {
        extraSettings = Map.copyOf(extraSettings);
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("timeoutMs must be positive, was " + timeoutMs);
        }
    }
}
