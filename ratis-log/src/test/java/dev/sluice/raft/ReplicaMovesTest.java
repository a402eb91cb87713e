package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicas the cluster moves to a new node, as after a node is fenced for good (the chaos run with seed 1001, five
 * nodes: a node lost the tail of its Raft log to a disk fault, came back too late, and the coordinator moved its
 * replicas). The new node joins each group passively, and each group's leader adds it.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReplicaMovesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    private RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * One leader adds the same new node to several groups at once. Every group's appender notifies the new replica
     * to install a snapshot (Ratis does so for every replica a membership change adds), and the notices of all
     * groups share the leader's one Netty connection to that node. Ratis sends each notice as call 0 and its Netty
     * client allows one pending call per id on a connection: a second group's notice failed, and in the chaos run
     * queue-0's new replica on node 5 never received an entry. Every group must take the new replica in.
     */
    @Test
    void aLeaderAddingOneNodeToManyGroupsAtOnceBringsItIntoEach() throws Exception {
        cluster = new RaftTestCluster(
                dir,
                new HashMap<>(RaftTestCluster.fastElections("netty")),
                LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "65536")));
        cluster.startAll(ALL);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            TopicPartition tp = new TopicPartition("queue", p);
            tps.add(tp);
            cluster.createPartition(tp, ALL);
        }
        for (TopicPartition tp : tps) {
            write(tp, 30);
            cluster.moveLeader(tp, "n1", TIMEOUT);
            cluster.awaitConverged(tp, TIMEOUT, ALL);
        }
        cluster.stop("n2");
        RaftNode leader = cluster.node("n1");
        RaftNode joining = cluster.start("n4");
        for (TopicPartition tp : tps) {
            joining.joinPartition(tp, cluster.peers(ALL), LogConfig.parse(Map.of()));
        }

        List<CompletableFuture<Void>> changes = new ArrayList<>();
        for (TopicPartition tp : tps) {
            changes.add(CompletableFuture.runAsync(() -> {
                try {
                    leader.changeReplicas(tp, cluster.peers("n1", "n3", "n4"));
                } catch (Exception e) {
                    throw new IllegalStateException(tp + ": " + e, e);
                }
            }));
        }
        CompletableFuture.allOf(changes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

        for (TopicPartition tp : tps) {
            assertThat(cluster.awaitConverged(tp, TIMEOUT, "n1", "n3", "n4"))
                    .as("%s on the new replica", tp)
                    .isEqualTo(90);
            assertThat(cluster.segmentDifferences(tp, "n1", "n3", "n4")).isEmpty();
        }
    }

    /**
     * The leader adds the new replica after the writers stopped: the group takes no more writes and its leader has
     * no snapshot (its Raft log starts at index 0). The new replica still takes the whole log.
     */
    @Test
    void aReplacementJoiningAGroupThatTakesNoMoreWritesCatchesUp() throws Exception {
        cluster = new RaftTestCluster(
                dir,
                new HashMap<>(RaftTestCluster.fastElections("netty")),
                LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "65536")));
        cluster.startAll(ALL);
        TopicPartition tp = new TopicPartition("queue", 0);
        cluster.createPartition(tp, ALL);
        write(tp, 300);
        RaftNode leader = cluster.awaitLeader(tp, TIMEOUT);
        String follower = leader.id().equals("n1") ? "n3" : "n1";
        String removed = List.of(ALL).stream()
                .filter(id -> !id.equals(leader.id()) && !id.equals(follower))
                .findFirst()
                .orElseThrow();
        cluster.awaitConverged(tp, TIMEOUT, ALL);
        cluster.stop(removed);

        RaftNode joining = cluster.start("n4");
        joining.joinPartition(tp, cluster.peers(ALL), LogConfig.parse(Map.of()));
        Thread.sleep(5_000); // passive meanwhile
        leader.changeReplicas(tp, cluster.peers(leader.id(), follower, "n4"));

        String[] replicas = {leader.id(), follower, "n4"};
        assertThat(cluster.awaitConverged(tp, TIMEOUT, replicas)).isEqualTo(900);
        assertThat(cluster.segmentDifferences(tp, replicas)).isEmpty();
    }

    /**
     * The chaos run with seed 4049 (five nodes): the coordinator moved a replica to node 6, node 6 was killed as
     * the leader began adding it, and the coordinator moved the replica on to node 5. Ratis's leader judges a
     * peer being added only when no event reached it for a whole RPC timeout, and each write a follower
     * acknowledges is one: while the partition took writes, the leader kept adding the dead node, and every
     * change to node 5 answered "reconfiguration in progress" (four and a half minutes, until the writes
     * stopped). The change to a dead node must give way to the next one while writes go on.
     */
    @Test
    void aMoveTowardsADeadNodeGivesWayToTheNextMoveWhileThePartitionTakesWrites() throws Exception {
        cluster = new RaftTestCluster(
                dir,
                new HashMap<>(RaftTestCluster.fastElections("netty")),
                LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "65536")));
        cluster.startAll(ALL);
        TopicPartition tp = new TopicPartition("queue", 2);
        cluster.createPartition(tp, ALL);
        cluster.moveLeader(tp, "n1", TIMEOUT);
        RaftNode leader = cluster.node("n1");
        cluster.start("n5").joinPartition(tp, cluster.peers(ALL), cluster.logConfig());

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger written = new AtomicInteger();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 20_000 && writing.get(); i++) { // a write every 20 ms, as the chaos producers did
                if (cluster.append(tp, Batches.batch(CompressionType.NONE, 2, i), TIMEOUT)
                                .error()
                        == Errors.NONE) {
                    written.incrementAndGet();
                }
                sleep(20);
            }
        });
        try {
            // n4 is dead: nothing listens at its address. Adding it cannot succeed.
            CompletableFuture<Void> towardsDeadNode = CompletableFuture.runAsync(() -> {
                try {
                    leader.changeReplicas(tp, cluster.peers("n1", "n2", "n4"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            RaftTestCluster.await(TIMEOUT, "the leader to start adding n4", () -> stagingOrDone(leader, tp));

            // The cluster's reconciler asks for the next assignment until the leader takes it.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            Exception last = null;
            boolean moved = false;
            while (!moved && System.nanoTime() < deadline) {
                try {
                    leader.changeReplicas(tp, cluster.peers("n1", "n2", "n5"));
                    moved = true;
                } catch (IOException e) {
                    last = e;
                }
            }
            assertThat(moved)
                    .as("the move to n5 while the leader had been adding dead n4 (last answer: %s)", last)
                    .isTrue();
            assertThat(towardsDeadNode).as("the move towards dead n4").failsWithin(Duration.ofSeconds(60));
        } finally {
            writing.set(false);
            writer.get(60, TimeUnit.SECONDS);
        }

        String[] replicas = {"n1", "n2", "n5"};
        assertThat(written.get()).as("writes acknowledged during the moves").isPositive();
        assertThat(cluster.awaitConverged(tp, TIMEOUT, replicas)).isGreaterThanOrEqualTo(2L * written.get());
        assertThat(cluster.segmentDifferences(tp, replicas)).isEmpty();
    }

    /** Whether the leader has begun adding a peer (the change is staged or has already ended). */
    private static boolean stagingOrDone(RaftNode leader, TopicPartition tp) {
        try {
            return leader.division(tp).getInfo().getFollowerNextIndices().length > 2;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void write(TopicPartition tp, int batches) {
        for (int i = 0; i < batches; i++) {
            assertThat(cluster.append(tp, Batches.batch(CompressionType.NONE, 3, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
    }
}
