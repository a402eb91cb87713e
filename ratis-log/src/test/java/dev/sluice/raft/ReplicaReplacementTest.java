package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.LifeCycle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A replica that replaces a removed node's replica, as the cluster moves it (found by {@code sluice chaos}
 * seed 201, where the new replicas never caught up): it must install or take the leader's log whether or not
 * the leader has a snapshot, must not be closed by Ratis while it waits to be added, and a division Ratis
 * closes anyway comes back.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReplicaReplacementTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("txn-in", 3);

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private RaftTestCluster cluster(String rpcType, boolean frequentSnapshots) {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections(rpcType));
        if (frequentSnapshots) {
            settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 50L);
            settings.put(RaftSettings.PURGE_GAP_ENTRIES, 10);
            settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
            settings.put(RaftSettings.LOG_SEGMENT_BYTES, 8192L);
        }
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "8192")));
        return cluster;
    }

    private void write(int batches, int from) {
        for (int i = from; i < from + batches; i++) {
            assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 4, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
    }

    /**
     * Ratis notifies every replica a membership change adds to install a snapshot, even when the leader has
     * none (its log starts at index 0): the new replica asked the leader for a snapshot it did not have, on
     * every attempt, and never joined. It takes the leader's log instead.
     */
    @ParameterizedTest
    @ValueSource(strings = {"netty", "grpc"})
    void aReplicaAddedToAGroupWhoseLeaderHasNoSnapshotTakesTheLeadersLog(String rpcType) throws Exception {
        cluster(rpcType, false).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        write(20, 0);
        cluster.start("n4");

        cluster.addReplica(TP, "n4", "n1", "n2", "n3");

        String[] all = {"n1", "n2", "n3", "n4"};
        assertThat(cluster.awaitConverged(TP, TIMEOUT, all)).isEqualTo(80);
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
        assertThat(cluster.node("n4").installer().lastInstall())
                .as("nothing to copy")
                .isNull();
    }

    /**
     * The chaos run's replacement: node n3 is gone for good; n4 is given its replica while the leader (elsewhere)
     * keeps taking writes and has purged its Raft log behind snapshots. n4 joins, waits passive for longer than
     * many election timeouts (created as a member of a configuration the leader did not have, it campaigned and
     * the leader told it to shut down), then installs the leader's snapshot and catches up.
     */
    @Test
    void aReplicaReplacingARemovedOneWaitsToBeAddedThenInstallsAndCatchesUp() throws Exception {
        cluster("netty", true).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        write(200, 0);
        for (RaftNode node : cluster.nodes()) {
            awaitPurged(node);
        }
        cluster.stop("n3");
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);

        cluster.start("n4");
        RaftNode joining = cluster.node("n4");
        joining.joinPartition(TP, cluster.peers("n1", "n2", "n3"), cluster.logConfig());
        Background writes = new Background(200);
        Thread.sleep(4_000); // several election timeouts (400–800 ms)
        assertThat(joining.division(TP).getInfo().getLifeCycleState())
                .as("a replica waiting to be added is neither closed nor campaigning")
                .isEqualTo(LifeCycle.State.STARTING);
        assertThat(joining.divisionsRecreated()).isZero();

        leader.changeReplicas(TP, cluster.peers("n1", "n2", "n4"));
        int written = writes.stop();

        String[] replicas = {"n1", "n2", "n4"};
        // A write whose answer timed out may have been committed too (and written again).
        assertThat(cluster.awaitConverged(TP, TIMEOUT, replicas)).isGreaterThanOrEqualTo(4L * written);
        assertThat(cluster.segmentDifferences(TP, replicas)).isEmpty();
        assertThat(joining.installer().lastInstall()).isNotNull();
        assertThat(joining.division(TP).getInfo().getLifeCycleState()).isEqualTo(LifeCycle.State.RUNNING);
        assertThat(joining.divisionsRecreated()).isZero();
        assertThat(cluster.awaitLeader(TP, TIMEOUT).status(TP).inSyncReplicas()).containsExactly(replicas);
    }

    /**
     * What the Reconciler did in the chaos run: n4's replica is created as a member of the new assignment
     * (with the leader in it) before the leader changes the group's membership. It times out waiting for a
     * leader, campaigns, and the leader — whose committed configuration (changed once already) lacks it —
     * tells it to shut down: Ratis closes the division for good. The node re-creates it, passive, and once the
     * leader adds it, it catches up.
     */
    @Test
    void aReplicaTheLeaderShutDownBeforeAddingItIsRecreatedAndCatchesUpOnceAdded() throws Exception {
        cluster("netty", false).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        write(20, 0);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        String follower = leader.id().equals("n1") ? "n2" : "n1";
        String removed = List.of("n1", "n2", "n3").stream()
                .filter(id -> !id.equals(leader.id()) && !id.equals(follower))
                .findFirst()
                .orElseThrow();
        cluster.stop(removed);
        leader.changeReplicas(TP, cluster.peers(leader.id(), follower));

        cluster.start("n4");
        RaftNode created = cluster.node("n4");
        created.addPartition(TP, cluster.peers(leader.id(), follower, "n4"), cluster.logConfig());
        RaftTestCluster.await(
                TIMEOUT,
                "n4's division, shut down by the leader, to be re-created",
                () -> created.divisionsRecreated() > 0 && state(created) == LifeCycle.State.STARTING);
        Thread.sleep(3_000);
        assertThat(state(created)).as("passive, not shut down again").isEqualTo(LifeCycle.State.STARTING);
        assertThat(created.divisionsRecreated()).isEqualTo(1);

        leader.changeReplicas(TP, cluster.peers(leader.id(), follower, "n4"));
        write(10, 20);

        String[] replicas = {leader.id(), follower, "n4"};
        assertThat(cluster.awaitConverged(TP, TIMEOUT, replicas)).isEqualTo(120);
        assertThat(cluster.segmentDifferences(TP, replicas)).isEmpty();
        assertThat(state(created)).isEqualTo(LifeCycle.State.RUNNING);
    }

    /** Whatever made Ratis close a division, the node re-creates it from its files and it catches up. */
    @Test
    void aDivisionRatisClosedIsRecreatedFromItsFilesAndCatchesUp() throws Exception {
        cluster("netty", true).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        write(100, 0);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        RaftNode follower =
                cluster.nodes().stream().filter(n -> n != leader).findFirst().orElseThrow();

        follower.division(TP).close();
        assertThat(state(follower)).isEqualTo(LifeCycle.State.CLOSED);
        write(100, 100);

        RaftTestCluster.await(
                TIMEOUT,
                "the closed division to be re-created",
                () -> follower.divisionsRecreated() == 1 && state(follower) == LifeCycle.State.RUNNING);
        String[] all = {"n1", "n2", "n3"};
        assertThat(cluster.awaitConverged(TP, TIMEOUT, all)).isEqualTo(800);
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
    }

    private static LifeCycle.State state(RaftNode node) {
        try {
            RaftServer.Division division = node.division(TP);
            return division.getInfo().getLifeCycleState();
        } catch (Exception e) {
            return null;
        }
    }

    private static void awaitPurged(RaftNode node) {
        RaftTestCluster.await(TIMEOUT, "the Raft log of " + node.id() + " to be purged", () -> {
            try {
                return node.division(TP).getRaftLog().getStartIndex() > 50;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Writes one batch after another, numbered from {@code from}, until stopped. */
    private final class Background {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger next;
        private final CompletableFuture<Void> done;

        Background(int from) {
            next = new AtomicInteger(from);
            done = CompletableFuture.runAsync(() -> {
                while (running.get()) {
                    int i = next.get();
                    if (cluster.append(TP, Batches.batch(CompressionType.NONE, 4, i), TIMEOUT)
                                    .error()
                            == Errors.NONE) {
                        next.incrementAndGet();
                    }
                    // Paced: unpaced on a warm JVM, the leader took a snapshot (every 50 entries) and purged its
                    // log during every copy the new replica made of one, so the replica never caught up within
                    // the test. A snapshot every half second still purges the log throughout the test.
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            });
        }

        /** Stops writing; the number of batches written in all (from 0). */
        int stop() throws Exception {
            running.set(false);
            done.get();
            return next.get();
        }
    }
}
