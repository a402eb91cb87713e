package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.raft.NettyTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One Raft group whose follower never finishes an append must not hold up the other groups that follower shares a
 * connection with. Three real Ratis servers on 127.0.0.1 host two groups, both led by {@code s1}, so that {@code s1}
 * sends the appends of both to {@code s2} over one connection; {@code s2}'s log of group "stuck" stops flushing (its
 * state machine's flush never completes), so that group's appends on {@code s2} never complete. Ratis's own Netty
 * server answered appends on the connection's event loop and stopped serving the other group too, until the leader's
 * call timed out and it reconnected; Sluice's ({@link NettyServerRpc}) keeps serving it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class StuckGroupTest {
    private static final List<String> PEERS = List.of("s1", "s2", "s3");
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Well below the leader's request timeout: no reconnect may come to the rescue. */
    private static final Duration PROMPTLY = Duration.ofMillis(2_000);

    private static final long REQUEST_TIMEOUT_MS = 5_000;

    @TempDir
    Path dir;

    private final List<RaftServer> servers = new ArrayList<>();
    private final Map<String, GatedStateMachine> stateMachines = new ConcurrentHashMap<>();
    private final List<RaftClient> clients = new ArrayList<>();
    private FaultInjector injector;

    @AfterEach
    void stop() throws IOException {
        stateMachines.values().forEach(GatedStateMachine::release);
        for (RaftClient client : clients) {
            client.close();
        }
        for (RaftServer server : servers) {
            server.close();
        }
        if (injector != null) {
            injector.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"netty", "faulty"})
    void shouldKeepReplicatingOtherGroupsToAFollowerWhoseAppendOfOneGroupNeverCompletes(String transport)
            throws Exception {
        start(transport);
        RaftGroup stuck = group("stuck");
        RaftGroup healthy = group("healthy");
        RaftClient stuckClient = client(stuck);
        RaftClient healthyClient = client(healthy);
        awaitUntil("s1 to lead both groups", () -> leads("s1", stuck) && leads("s1", healthy));
        send(stuckClient);
        send(healthyClient);
        awaitUntil("s2 to hold both groups' logs", () -> caughtUp("s2", stuck) && caughtUp("s2", healthy));

        GatedStateMachine stuckOnS2 = stateMachines.get(key("s2", stuck));
        stuckOnS2.hold();
        send(stuckClient); // committed by s1 and s3; s2 never finishes appending it
        awaitUntil("s2 to start flushing the stuck group's entry", () -> stuckOnS2.heldFlushes() > 0);

        for (int i = 0; i < 5; i++) {
            send(healthyClient);
        }
        awaitUntil("s2 to hold the healthy group's log, promptly", PROMPTLY, () -> caughtUp("s2", healthy));
        assertThat(caughtUp("s2", stuck))
                .as("the stuck group's append on s2 is still stuck")
                .isFalse();
    }

    private void start(String transport) throws IOException {
        if (transport.equals("faulty")) {
            injector = FaultInjector.register("stuck-group-" + UUID.randomUUID(), 11);
        }
        for (String id : PEERS) {
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(id))
                    .setProperties(properties(dir.resolve(id)))
                    .setStateMachineRegistry(groupId -> {
                        GatedStateMachine stateMachine = new GatedStateMachine();
                        stateMachines.put(id + "/" + groupId, stateMachine);
                        return stateMachine;
                    })
                    .build();
            servers.add(server);
            server.start();
        }
    }

    private RaftProperties properties(Path storage) {
        RaftProperties properties = new RaftProperties();
        if (injector != null) {
            FaultInjectingRpcFactory.configure(properties, injector.name(), "127.0.0.1", 0);
        } else {
            properties.set("raft.rpc.type", NettyTransport.class.getName());
            NettyConfigKeys.Server.setHost(properties, "127.0.0.1");
            NettyConfigKeys.Server.setPort(properties, 0);
        }
        RaftServerConfigKeys.setStorageDir(properties, List.of(storage.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(400, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(800, TimeUnit.MILLISECONDS));
        RaftClientConfigKeys.Rpc.setRequestTimeout(
                properties, TimeDuration.valueOf(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS));
        return properties;
    }

    /** A group of all three servers that prefers {@code s1} as its leader. */
    private RaftGroup group(String name) throws IOException {
        List<RaftPeer> peers = new ArrayList<>();
        for (RaftServer server : servers) {
            peers.add(RaftPeer.newBuilder(server.getPeer())
                    .setPriority(server.getId().toString().equals("s1") ? 1 : 0)
                    .build());
        }
        RaftGroup group = RaftGroup.valueOf(RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name.getBytes())), peers);
        try (RaftClient admin = newClient(group)) {
            for (RaftServer server : servers) {
                admin.getGroupManagementApi(server.getId()).add(group);
            }
        }
        return group;
    }

    private RaftClient client(RaftGroup group) {
        RaftClient client = newClient(group);
        clients.add(client);
        return client;
    }

    private RaftClient newClient(RaftGroup group) {
        return RaftClient.newBuilder()
                .setProperties(properties(dir.resolve("client")))
                .setRaftGroup(group)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        100, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                .build();
    }

    private static void send(RaftClient client) throws IOException {
        RaftClientReply reply = client.io().send(Message.valueOf("entry"));
        assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
    }

    private RaftServer.Division division(String id, RaftGroup group) {
        for (RaftServer server : servers) {
            if (server.getId().toString().equals(id)) {
                try {
                    return server.getDivision(group.getGroupId());
                } catch (IOException e) {
                    return null;
                }
            }
        }
        throw new AssertionError("no server " + id);
    }

    private boolean leads(String id, RaftGroup group) {
        RaftServer.Division division = division(id, group);
        return division != null && division.getInfo().isLeaderReady();
    }

    /** Whether {@code id} has flushed its log of {@code group} as far as the leader's log goes. */
    private boolean caughtUp(String id, RaftGroup group) {
        RaftServer.Division follower = division(id, group);
        RaftServer.Division leader = division("s1", group);
        if (follower == null || leader == null) {
            return false;
        }
        TermIndex last = leader.getRaftLog().getLastEntryTermIndex();
        return last != null && follower.getRaftLog().getFlushIndex() >= last.getIndex();
    }

    private static String key(String id, RaftGroup group) {
        return id + "/" + group.getGroupId();
    }

    private static void awaitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        awaitUntil(what, WAIT, condition);
    }

    private static void awaitUntil(String what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Applies nothing; its flushes can be held back, which leaves the group's appends on this server unfinished. */
    static final class GatedStateMachine extends BaseStateMachine implements StateMachine.DataApi {
        private volatile CompletableFuture<Void> gate;
        private final AtomicInteger heldFlushes = new AtomicInteger();

        @Override
        public StateMachine.DataApi data() {
            return this;
        }

        @Override
        public CompletableFuture<Void> flush(long logIndex) {
            CompletableFuture<Void> held = gate;
            if (held == null) {
                return CompletableFuture.completedFuture(null);
            }
            heldFlushes.incrementAndGet();
            return held;
        }

        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            LogEntryProto entry = trx.getLogEntry();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
        }

        void hold() {
            gate = new CompletableFuture<>();
        }

        int heldFlushes() {
            return heldFlushes.get();
        }

        void release() {
            CompletableFuture<Void> held = gate;
            gate = null;
            if (held != null) {
                held.complete(null);
            }
        }
    }
}
