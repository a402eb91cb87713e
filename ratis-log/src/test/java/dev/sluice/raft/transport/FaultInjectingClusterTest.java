package dev.sluice.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Ratis servers on 127.0.0.1 talking through {@link FaultInjectingRpcFactory}, one Raft group of a
 * {@link CounterStateMachine}. Servers listen on port 0 and the group is added once their ports are known.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultInjectingClusterTest {
    private static final long SEED = 20240611L;
    private static final List<String> PEERS = List.of("s1", "s2", "s3");
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Message INCREMENT = Message.valueOf("increment");

    @TempDir
    Path dir;

    private FaultInjector injector;
    private final List<RaftServer> servers = new ArrayList<>();
    private RaftGroup group;
    private RaftClient client;

    @BeforeEach
    void startCluster() throws IOException {
        injector = FaultInjector.register("cluster-" + UUID.randomUUID(), SEED);
        injector.setLostCallTimeoutMs(100);
        for (String id : PEERS) {
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(id))
                    .setProperties(properties(dir.resolve(id)))
                    .setStateMachineRegistry(groupId -> new CounterStateMachine())
                    .build();
            servers.add(server);
            server.start();
        }
        group = RaftGroup.valueOf(
                RaftGroupId.randomId(),
                servers.stream().map(RaftServer::getPeer).toList());
        client = RaftClient.newBuilder()
                .setProperties(properties(dir.resolve("client")))
                .setRaftGroup(group)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        100, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                .build();
        for (RaftServer server : servers) {
            client.getGroupManagementApi(server.getId()).add(group);
        }
    }

    @AfterEach
    void stopCluster() throws IOException {
        // Cut everyone off first: peers shutting down one by one then see injected losses, not refused connections.
        PEERS.forEach(injector::isolate);
        if (client != null) {
            client.close();
        }
        for (RaftServer server : servers) {
            server.close();
        }
        injector.close();
    }

    @Test
    void shouldCommitWritesOnEveryPeerWhenNoFaultsAreInjected() throws IOException {
        String leader = awaitSingleLeader();

        for (int i = 1; i <= 10; i++) {
            assertThat(increment()).isEqualTo(i);
        }

        awaitCounts(Map.of("s1", 10L, "s2", 10L, "s3", 10L));
        for (String follower : othersThan(leader)) {
            assertThat(injector.stats(leader, follower).requests())
                    .as("appends %s->%s went through the injector", leader, follower)
                    .isPositive();
            assertThat(injector.stats(leader, follower).lost()).isZero();
            assertThat(injector.stats(follower, leader).replies()).isPositive();
        }
    }

    @Test
    void shouldElectAnotherLeaderWhenTheLeaderIsCutOffAndConvergeAfterHealing() throws IOException {
        String oldLeader = awaitSingleLeader();
        incrementTimes(3);
        awaitCounts(Map.of("s1", 3L, "s2", 3L, "s3", 3L));

        injector.isolate(oldLeader);

        awaitUntil(
                "a peer other than " + oldLeader + " leads and " + oldLeader + " has stepped down",
                () -> !info(oldLeader).isLeader()
                        && othersThan(oldLeader).stream().anyMatch(p -> info(p).isLeaderReady()));
        incrementTimes(5);
        Map<String, Long> expected = new TreeMap<>(Map.of(oldLeader, 3L));
        othersThan(oldLeader).forEach(p -> expected.put(p, 8L));
        awaitCounts(expected);
        assertThat(count(oldLeader)).as("the isolated peer applied nothing new").isEqualTo(3);

        injector.healAll();

        awaitCounts(Map.of("s1", 8L, "s2", 8L, "s3", 8L));
        String newLeader = awaitSingleLeader();
        assertThat(newLeader).isNotEqualTo(oldLeader);
        assertThat(PEERS).allSatisfy(p -> assertThat(info(p).getLeaderId()).hasToString(newLeader));
    }

    @Test
    void shouldEnforceAOneWayCutInOneDirectionOnly() throws IOException {
        String leader = awaitSingleLeader();
        String cutOff = othersThan(leader).get(0);
        String healthy = othersThan(leader).get(1);
        incrementTimes(2);
        awaitCounts(Map.of("s1", 2L, "s2", 2L, "s3", 2L));
        LinkStats outBefore = injector.stats(leader, cutOff);
        LinkStats inBefore = injector.stats(cutOff, leader);
        LinkStats healthyBefore = injector.stats(leader, healthy);

        injector.cut(leader, cutOff);

        incrementTimes(5);
        awaitCounts(Map.of(leader, 7L, healthy, 7L));
        awaitUntil(
                cutOff + ", hearing nothing, sends requests to " + leader + " over the intact direction",
                () -> injector.stats(cutOff, leader).requests() > inBefore.requests());
        LinkStats out = minus(injector.stats(leader, cutOff), outBefore);
        LinkStats in = minus(injector.stats(cutOff, leader), inBefore);
        assertThat(out.messages()).as("messages %s->%s", leader, cutOff).isPositive();
        assertThat(out.lost()).as("all lost %s->%s", leader, cutOff).isEqualTo(out.messages());
        assertThat(in.requests()).as("requests %s->%s", cutOff, leader).isPositive();
        assertThat(in.lost()).as("none lost %s->%s", cutOff, leader).isZero();
        assertThat(minus(injector.stats(leader, healthy), healthyBefore).lost()).isZero();
        assertThat(count(cutOff)).as("%s received no appends", cutOff).isEqualTo(2);
        assertThat(info(leader).isLeader())
                .as("the majority side keeps its leader")
                .isTrue();

        injector.heal(leader, cutOff);

        awaitCounts(Map.of("s1", 7L, "s2", 7L, "s3", 7L));
    }

    @Test
    void shouldConvergeUnderRandomDropsDelaysDuplicatesAndReordering() throws IOException {
        awaitSingleLeader();
        injector.setDefaultFaults(LinkFaults.NONE
                .withDropProbability(0.05)
                .withDelayMs(0, 10)
                .withDuplicateProbability(0.2)
                .withReorder(0.2, 30));

        incrementTimes(20);

        awaitUntil(
                "all peers applied the same count, at least 20",
                () -> count("s1") >= 20 && count("s1") == count("s2") && count("s1") == count("s3"));
        long lost = 0;
        long duplicated = 0;
        for (String from : PEERS) {
            for (String to : othersThan(from)) {
                lost += injector.stats(from, to).lost();
                duplicated += injector.stats(from, to).duplicated();
            }
        }
        assertThat(duplicated).as("requests delivered twice").isPositive();
        assertThat(lost).as("messages lost").isPositive();
    }

    // ---------------------------------------------------------------- cluster plumbing

    private RaftProperties properties(Path storage) {
        RaftProperties properties = new RaftProperties();
        FaultInjectingRpcFactory.configure(properties, injector.name(), "127.0.0.1", 0);
        RaftServerConfigKeys.setStorageDir(properties, List.of(storage.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        return properties;
    }

    private long increment() throws IOException {
        RaftClientReply reply = client.io().send(INCREMENT);
        assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
        return Long.parseLong(reply.getMessage().getContent().toStringUtf8());
    }

    private void incrementTimes(int times) throws IOException {
        for (int i = 0; i < times; i++) {
            increment();
        }
    }

    private String awaitSingleLeader() {
        awaitUntil(
                "exactly one ready leader",
                () -> leaders().size() == 1 && info(leaders().get(0)).isLeaderReady());
        return leaders().get(0);
    }

    private List<String> leaders() {
        return PEERS.stream().filter(p -> info(p).isLeader()).toList();
    }

    private void awaitCounts(Map<String, Long> expected) {
        awaitUntil("counts " + new TreeMap<>(expected), () -> expected.entrySet().stream()
                .allMatch(e -> count(e.getKey()) == e.getValue()));
    }

    private void awaitUntil(String condition, BooleanSupplier satisfied) {
        long deadlineNs = System.nanoTime() + WAIT.toNanos();
        while (!satisfied.getAsBoolean()) {
            if (System.nanoTime() - deadlineNs > 0) {
                fail("not true after " + WAIT + ": " + condition + "; cluster: " + describe());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + condition);
            }
        }
    }

    private String describe() {
        Map<String, String> state = new TreeMap<>();
        for (String p : PEERS) {
            DivisionInfo info = info(p);
            state.put(
                    p,
                    info.getCurrentRole() + " term=" + info.getCurrentTerm() + " leader=" + info.getLeaderId()
                            + " count=" + count(p));
        }
        return state.toString();
    }

    private List<String> othersThan(String peer) {
        return PEERS.stream().filter(p -> !p.equals(peer)).toList();
    }

    private RaftServer.Division division(String peer) {
        RaftServer server = servers.get(PEERS.indexOf(peer));
        try {
            return server.getDivision(group.getGroupId());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private DivisionInfo info(String peer) {
        return division(peer).getInfo();
    }

    private long count(String peer) {
        return ((CounterStateMachine) division(peer).getStateMachine()).count();
    }

    private static LinkStats minus(LinkStats after, LinkStats before) {
        return new LinkStats(
                after.requests() - before.requests(),
                after.replies() - before.replies(),
                after.lost() - before.lost(),
                after.duplicated() - before.duplicated());
    }
}
