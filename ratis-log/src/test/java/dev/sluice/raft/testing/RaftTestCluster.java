package dev.sluice.raft.testing;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.raft.AppendOutcome;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.ReplicaFiles;
import dev.sluice.raft.ReplicaStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Real Raft nodes on 127.0.0.1 for tests: each with its own data directory and ports, started and
 * stopped (and restarted on the same directory and port) individually.
 */
public final class RaftTestCluster implements AutoCloseable {
    private final Path root;
    private final Map<String, Object> settings;
    private final LogConfig logConfig;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, RaftNode> running = new LinkedHashMap<>();

    public RaftTestCluster(Path root, Map<String, Object> settings, LogConfig logConfig) {
        this.root = root;
        this.settings = new HashMap<>(settings);
        this.logConfig = logConfig;
    }

    /** The partitions' log configuration (the topic's): what every replica of a partition is created with. */
    public LogConfig logConfig() {
        return logConfig;
    }

    /** Settings that make elections quick enough for tests. */
    public static Map<String, Object> fastElections(String rpcType) {
        Map<String, Object> values = new HashMap<>();
        values.put(RaftSettings.RPC_TYPE, rpcType);
        values.put(RaftSettings.ELECTION_TIMEOUT_MIN_MS, 400L);
        values.put(RaftSettings.ELECTION_TIMEOUT_MAX_MS, 800L);
        values.put(RaftSettings.REQUEST_TIMEOUT_MS, 2000L);
        return values;
    }

    public RaftNode start(String id) {
        int port = ports.computeIfAbsent(id, k -> freePort());
        try {
            RaftNode node = RaftNode.start(
                    id, "127.0.0.1", port, dataDir(id), RaftSettings.parse(settings), logConfig, Clock.SYSTEM);
            running.put(id, node);
            return node;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<RaftNode> startAll(String... ids) {
        List<RaftNode> nodes = new ArrayList<>();
        for (String id : ids) {
            nodes.add(start(id));
        }
        return nodes;
    }

    public void stop(String id) throws IOException {
        RaftNode node = running.remove(id);
        if (node != null) {
            node.close();
        }
    }

    public RaftNode node(String id) {
        return Objects.requireNonNull(running.get(id), () -> id + " is not running");
    }

    public boolean isRunning(String id) {
        return running.containsKey(id);
    }

    public List<RaftNode> nodes() {
        return List.copyOf(running.values());
    }

    public Path dataDir(String id) {
        return root.resolve(id);
    }

    public RaftPeer peer(String id) {
        int port = ports.computeIfAbsent(id, k -> freePort());
        return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + port).build();
    }

    public List<RaftPeer> peers(String... ids) {
        List<RaftPeer> result = new ArrayList<>();
        for (String id : ids) {
            result.add(peer(id));
        }
        return result;
    }

    /** Creates the partition's group on each named (running) node. */
    public void createPartition(TopicPartition tp, String... ids) throws IOException {
        List<RaftPeer> replicas = peers(ids);
        for (String id : ids) {
            node(id).addPartition(tp, replicas, logConfig);
        }
    }

    /** Adds the (running) node {@code newId} as a replica of a group whose replicas are {@code current}. */
    public void addReplica(TopicPartition tp, String newId, String... current) throws IOException {
        List<String> all = new ArrayList<>(List.of(current));
        all.add(newId);
        List<RaftPeer> replicas = peers(all.toArray(new String[0]));
        node(newId).addPartition(tp, replicas, logConfig);
        node(current[0]).changeReplicas(tp, replicas);
    }

    /** Makes node {@code id} the partition's leader (a leadership transfer, if another node leads it). */
    public void moveLeader(TopicPartition tp, String id, Duration timeout) throws IOException {
        RaftNode leader = awaitLeader(tp, timeout);
        if (!leader.id().equals(id) && !leader.transferLeadership(tp, id, timeout.toMillis())) {
            throw new AssertionError("the leadership of " + tp + " did not move from " + leader.id() + " to " + id);
        }
    }

    /** Waits until a running node leads the partition and can take writes; returns it. */
    public RaftNode awaitLeader(TopicPartition tp, Duration timeout) {
        RaftNode[] found = new RaftNode[1];
        await(timeout, "a leader for " + tp, () -> {
            for (RaftNode node : running.values()) {
                ReplicaStatus status = node.status(tp);
                if (status != null && status.isLeader()) {
                    found[0] = node;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Appends through whichever node leads, retrying NOT_LEADER answers until {@code timeout}. */
    public AppendOutcome append(TopicPartition tp, ByteBuffer records, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        AppendOutcome last = null;
        while (System.nanoTime() < deadline) {
            RaftNode leader = awaitLeader(tp, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            try {
                last = leader.append(tp, records.duplicate(), BatchValidator.Origin.CLIENT)
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                last = AppendOutcome.error(org.apache.kafka.common.protocol.Errors.REQUEST_TIMED_OUT, e.toString());
            }
            if (last.error() != org.apache.kafka.common.protocol.Errors.NOT_LEADER_OR_FOLLOWER
                    && last.error() != org.apache.kafka.common.protocol.Errors.REQUEST_TIMED_OUT) {
                return last;
            }
            sleep(50);
        }
        return last;
    }

    /** Waits until every running replica of the partition has the same high watermark and log end. */
    public long awaitConverged(TopicPartition tp, Duration timeout, String... ids) {
        long[] hw = new long[1];
        await(timeout, "replicas of " + tp + " to converge", () -> {
            long expected = -2;
            for (String id : ids) {
                ReplicaStatus status = node(id).status(tp);
                if (status == null) {
                    return false;
                }
                if (expected == -2) {
                    expected = status.highWatermark();
                }
                if (status.highWatermark() != expected || status.logEndOffset() != expected) {
                    return false;
                }
            }
            hw[0] = expected;
            return true;
        });
        return hw[0];
    }

    /** The differences between the named replicas' segment files (empty when byte-identical). */
    public List<String> segmentDifferences(TopicPartition tp, String... ids) throws IOException {
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String id : ids) {
            dirs.put(id, NodeStore.partitionDir(dataDir(id), tp));
        }
        return ReplicaFiles.differences(dirs, true);
    }

    public static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(25);
        }
        if (!condition.getAsBoolean()) {
            throw new AssertionError("timed out after " + timeout + " waiting for " + what);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (String id : new ArrayList<>(running.keySet())) {
            try {
                stop(id);
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
