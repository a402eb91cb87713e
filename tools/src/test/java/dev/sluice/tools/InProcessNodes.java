package dev.sluice.tools;

import dev.sluice.broker.BrokerConfig;
import dev.sluice.broker.SluiceNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts real Sluice nodes in the test's JVM on free 127.0.0.1 ports, like the broker tests'
 * {@code InProcessCluster}: the first three nodes are the coordinator's voters, replication factor
 * {@code min(3, count)}, short election timeouts. The caller closes the nodes.
 */
final class InProcessNodes {
    private InProcessNodes() {}

    /**
     * Starts {@code count} nodes with data under {@code dir}, adding each to {@code nodes} as it starts
     * (so the caller can close those even if a later one fails), and waits until all are ready. Returns
     * the {@code bootstrap.servers} list.
     */
    static String start(Path dir, int count, Map<String, String> extra, List<SluiceNode> nodes) throws Exception {
        int[] kafka = new int[count];
        int[] raft = new int[count];
        int[] http = new int[count];
        StringBuilder voters = new StringBuilder();
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < count; i++) {
            kafka[i] = freePort();
            raft[i] = freePort();
            http[i] = freePort();
            if (i < 3) {
                voters.append(i > 0 ? "," : "")
                        .append(i + 1)
                        .append("@127.0.0.1:")
                        .append(raft[i]);
            }
            servers.append(i > 0 ? "," : "").append("127.0.0.1:").append(kafka[i]);
        }
        for (int i = 0; i < count; i++) {
            Map<String, String> settings = new HashMap<>();
            settings.put(BrokerConfig.NODE_ID, Integer.toString(i + 1));
            settings.put(BrokerConfig.LISTENERS, "127.0.0.1:" + kafka[i]);
            settings.put(BrokerConfig.RAFT_LISTENER, "127.0.0.1:" + raft[i]);
            settings.put(BrokerConfig.HTTP_LISTENER, "127.0.0.1:" + http[i]);
            settings.put(BrokerConfig.DATA_DIR, dir.resolve("node-" + (i + 1)).toString());
            settings.put(BrokerConfig.COORDINATOR_VOTERS, voters.toString());
            settings.put(BrokerConfig.DEFAULT_REPLICATION_FACTOR, Integer.toString(Math.min(3, count)));
            settings.put("raft.election.timeout.min.ms", "500");
            settings.put("raft.election.timeout.max.ms", "1000");
            settings.putAll(extra);
            nodes.add(SluiceNode.start(BrokerConfig.parse(settings)));
        }
        long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!nodes.stream().allMatch(SluiceNode::ready)) {
            if (System.nanoTime() > deadlineNs) {
                throw new IllegalStateException("the nodes were not all ready within 60 s");
            }
            Thread.sleep(100);
        }
        return servers.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
