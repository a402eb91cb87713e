package dev.sluice.coordinator;

import dev.sluice.coordinator.CoordinatorService.Self;
import dev.sluice.coordinator.CoordinatorService.Timing;
import dev.sluice.coordinator.CoordinatorService.Voter;
import dev.sluice.partitionstore.Clock;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.RaftNode;
import dev.sluice.raft.RaftSettings;
import dev.sluice.raft.testing.RaftTestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Real coordinator services on 127.0.0.1 for tests: each node has its own Raft server, data directory and
 * port, and hosts a member of the coordinator group when it is one of the voters. Nodes are started and
 * stopped individually; a restarted node keeps its directory and port, like a node coming back.
 */
final class CoordinatorTestCluster implements AutoCloseable {
    private static final String HOST = "127.0.0.1";

    private final Path root;
    private final Timing timing;
    private final Map<Integer, Integer> raftPorts = new HashMap<>();
    private final List<Voter> voters = new ArrayList<>();
    private final Map<Integer, Running> running = new TreeMap<>();

    private record Running(RaftNode raft, CoordinatorService service) {}

    CoordinatorTestCluster(Path root, List<Integer> voterIds, Timing timing) {
        this.root = root;
        this.timing = timing;
        for (int id : voterIds) {
            voters.add(new Voter(id, HOST, raftPort(id)));
        }
    }

    /** Starts a node: a voter when its id is among the voters, a node that only follows the image otherwise. */
    CoordinatorService start(int nodeId) throws IOException {
        if (running.containsKey(nodeId)) {
            throw new IllegalStateException("node " + nodeId + " is already running");
        }
        boolean voter = voters.stream().anyMatch(v -> v.nodeId() == nodeId);
        RaftNode[] raftRef = new RaftNode[1];
        CoordinatorStateMachine stateMachine =
                voter ? new CoordinatorStateMachine(group -> raftRef[0].clientOf(group)) : null;
        RaftNode raft = RaftNode.start(
                Integer.toString(nodeId),
                HOST,
                raftPort(nodeId),
                dataDir(nodeId),
                RaftSettings.parse(RaftTestCluster.fastElections("grpc")),
                LogConfig.defaults(),
                Clock.SYSTEM,
                groupId -> voter && groupId.equals(CoordinatorService.GROUP_ID) ? stateMachine : null);
        raftRef[0] = raft;
        try {
            // No Kafka listener runs in these tests: the registered client port is never dialled.
            CoordinatorService service = CoordinatorService.start(
                    raft,
                    voters,
                    new Self(nodeId, HOST, 0, HOST, raftPort(nodeId), null),
                    timing,
                    stateMachine,
                    List::of);
            running.put(nodeId, new Running(raft, service));
            return service;
        } catch (IOException | RuntimeException e) {
            raft.close();
            throw e;
        }
    }

    /** Stops a node's service and Raft server: it is no longer heard from, as if it had crashed. */
    void stop(int nodeId) throws IOException {
        Running node = running.remove(nodeId);
        if (node != null) {
            node.service().close();
            node.raft().close();
        }
    }

    /** A node's data directory (kept across restarts). */
    Path dataDir(int nodeId) {
        return root.resolve("node-" + nodeId);
    }

    CoordinatorService service(int nodeId) {
        return Objects.requireNonNull(running.get(nodeId), () -> "node " + nodeId + " is not running")
                .service();
    }

    /** The id of the running node that leads the coordinator group, waiting for one. */
    int awaitLeader(Duration timeout) {
        int[] leader = {-1};
        RaftTestCluster.await(timeout, "a coordinator leader", () -> {
            running.forEach((id, node) -> {
                if (node.service().isLeader()) {
                    leader[0] = id;
                }
            });
            return leader[0] >= 0;
        });
        return leader[0];
    }

    /**
     * Waits until {@code service}'s image satisfies {@code condition} and returns that image; fails with
     * the last image seen.
     */
    static ClusterImage awaitImage(
            CoordinatorService service, Duration timeout, String what, Predicate<ClusterImage> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            ClusterImage image = service.image();
            if (condition.test(image)) {
                return image;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last image: "
                        + image.nodes().values() + " " + image.topics().values());
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    private int raftPort(int nodeId) {
        return raftPorts.computeIfAbsent(nodeId, id -> freePort());
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (int id : new ArrayList<>(running.keySet())) {
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
