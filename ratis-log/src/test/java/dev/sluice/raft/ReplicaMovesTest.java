package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

    private void write(TopicPartition tp, int batches) {
        for (int i = 0; i < batches; i++) {
            assertThat(cluster.append(tp, Batches.batch(CompressionType.NONE, 3, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
    }
}
