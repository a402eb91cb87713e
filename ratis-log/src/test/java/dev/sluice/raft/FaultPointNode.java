package dev.sluice.raft;

import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;

/**
 * A Raft node in a process of its own, for {@link LostUnsyncedWritesTest}: started with a fault point armed
 * ({@code -Dsluice.fault.points=...}), it takes part in one partition group until the fault point halts it.
 *
 * <p>Arguments: {@code id port dataDir topic partition segmentBytes peer...}, each peer as {@code
 * id=host:port}. Slow elections, so that the nodes of the test process lead.
 */
public final class FaultPointNode {
    private FaultPointNode() {}

    public static void main(String[] args) throws Exception {
        String id = args[0];
        int port = Integer.parseInt(args[1]);
        Path dataDir = Path.of(args[2]);
        TopicPartition tp = new TopicPartition(args[3], Integer.parseInt(args[4]));
        LogConfig config = LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, args[5]));
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 6; i < args.length; i++) {
            String[] peer = args[i].split("=", 2);
            peers.add(RaftPeer.newBuilder().setId(peer[0]).setAddress(peer[1]).build());
        }
        Map<String, Object> settings = new HashMap<>();
        settings.put(RaftSettings.ELECTION_TIMEOUT_MIN_MS, 10_000L);
        settings.put(RaftSettings.ELECTION_TIMEOUT_MAX_MS, 12_000L);
        settings.put(RaftSettings.REQUEST_TIMEOUT_MS, 2_000L);
        RaftNode node =
                RaftNode.start(id, "127.0.0.1", port, dataDir, RaftSettings.parse(settings), config, Clock.SYSTEM);
        if (!node.partitions().contains(tp)) {
            node.addPartition(tp, peers, config);
        }
        System.out.println("ready " + id);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // until the fault point halts the JVM, or the test kills it
    }
}
