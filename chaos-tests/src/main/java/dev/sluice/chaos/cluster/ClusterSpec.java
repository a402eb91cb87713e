package dev.sluice.chaos.cluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to start a chaos cluster.
 *
 * @param dir where each node gets its directory ({@code node-N/}: configuration, log, data)
 * @param nodes how many nodes to start with (the first three, or one, form the coordinator group)
 * @param seed seeds each node's fault injector ({@code raft.fault.seed})
 * @param settings node settings added to (and overriding) the harness's defaults, for every node
 * @param javaCommand the JVM and its options that run a node (the rest of the command is added)
 * @param classpath the classpath holding {@code dev.sluice.tools.SluiceTool}
 */
public record ClusterSpec(
        Path dir, int nodes, long seed, Map<String, String> settings, List<String> javaCommand, String classpath) {
    public ClusterSpec {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be >= 1, got " + nodes);
        }
        settings = Map.copyOf(settings);
        javaCommand = List.copyOf(javaCommand);
    }
}
