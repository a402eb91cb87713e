package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import dev.sluice.raft.transport.FaultInjector;
import dev.sluice.raft.transport.LinkFaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
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
 * A replica being added installs a snapshot that one leader asked for, and a later leader, whose Raft log
 * starts lower, has to finish adding it (the suspected cause of the chaos run with seed 4001, five nodes: a
 * leader was killed while it moved a replica, and the move never completed — every retry answered
 * "reconfiguration in progress"). Ratis's follower refuses every notice that names an index below the install
 * it has in progress, until one collects that install; the appender names the follower's index once it is told
 * so. Four nodes on the fault-injecting transport: {@code n1} leads with a purged log, {@code n2} and {@code n3}
 * have taken no snapshot; {@code n4}'s copy from {@code n1} is slowed, and {@code n1} is cut off from the others
 * while it runs.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InstallAcrossLeaderChangeTest {
    private static final TopicPartition TP = new TopicPartition("moving", 0);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private FaultInjector injector;
    private RaftTestCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            injector.healAll();
            injector.clearFaults();
            cluster.close();
        }
        if (injector != null) {
            injector.close();
        }
    }

    @Test
    void aLeaderWithALessPurgedLogFinishesAddingAReplicaThatInstallsFromItsPredecessor() throws Exception {
        injector = FaultInjector.register("install-across-leaders-" + UUID.randomUUID(), 4001);
        injector.setLostCallTimeoutMs(100);
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("faulty"));
        settings.put(RaftSettings.FAULT_INJECTOR, injector.name());
        settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 1_000_000L); // snapshots only when asked
        settings.put(RaftSettings.PURGE_GAP_ENTRIES, 1);
        settings.put(RaftSettings.LOG_SEGMENT_BYTES, 8192L);
        settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "8192")));
        cluster.startAll("n1", "n2", "n3", "n4");
        cluster.createPartition(TP, "n1", "n2", "n3");
        cluster.moveLeader(TP, "n1", TIMEOUT);
        write(400, 0);

        RaftNode n1 = cluster.node("n1");
        long snapshot = n1.snapshot(TP);
        RaftTestCluster.await(TIMEOUT, "n1 to purge its Raft log behind its snapshot", () -> raftLogStart("n1") > 50);
        assertThat(raftLogStart("n2")).as("n2 took no snapshot").isLessThan(raftLogStart("n1"));
        assertThat(raftLogStart("n3")).as("n3 took no snapshot").isLessThan(raftLogStart("n1"));

        // n4's copy from n1 takes a while: every request n4 sends n1 waits.
        injector.setFaults("n4", "n1", LinkFaults.NONE.withDelayMs(250));
        cluster.node("n4").addPartition(TP, cluster.peers("n1", "n2", "n3", "n4"), cluster.logConfig());
        // n1 is asked first; cut off below, its attempt cannot reach the next leader and is left to end by itself
        CompletableFuture.runAsync(() -> changeReplicas("n1"));
        Path staging = cluster.dataDir("n4").resolve("install").resolve(TP.topic() + "-" + TP.partition());
        RaftTestCluster.await(TIMEOUT, "n4 to start copying n1's snapshot", () -> Files.isDirectory(staging));

        // n1 loses the group while n4 still copies from it (n4 still reaches n1).
        injector.partition("n1", "n2");
        injector.partition("n1", "n3");
        RaftTestCluster.await(TIMEOUT, "n2 or n3 to lead", () -> {
            RaftNode leader = leaderAmong("n2", "n3");
            return leader != null;
        });
        String newLeader = leaderAmong("n2", "n3").id();
        assertThat(raftLogStart(newLeader)).isLessThan(snapshot);

        // The new leader is asked again (as the cluster's reconciler does) and must complete the change.
        CompletableFuture<Void> retry = CompletableFuture.runAsync(() -> changeReplicas(newLeader));
        retry.get(60, TimeUnit.SECONDS);
        assertThat(cluster.node("n4").installer().lastInstall()).isNotNull();
        // Without the appender's answer to the refusals, n4 heard from no leader, campaigned, was shut down by
        // Ratis as a non-member, and only a re-creation of its replica cleared the install (in a chaos run, one
        // that never came: the membership change stayed "in progress").
        assertThat(cluster.node("n4").divisionsRecreated())
                .as("n4's replica was shut down and created again on the way")
                .isZero();

        injector.healAll();
        injector.clearFaults();
        write(20, 400);
        cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3", "n4");
        assertThat(cluster.segmentDifferences(TP, "n1", "n2", "n3", "n4")).isEmpty();
    }

    private void changeReplicas(String through) {
        try {
            cluster.node(through).changeReplicas(TP, cluster.peers("n1", "n2", "n3", "n4"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private RaftNode leaderAmong(String... ids) {
        for (String id : ids) {
            try {
                if (cluster.node(id).division(TP).getInfo().isLeaderReady()) {
                    return cluster.node(id);
                }
            } catch (IOException e) {
                // not there yet
            }
        }
        return null;
    }

    private long raftLogStart(String id) {
        try {
            return cluster.node(id).division(TP).getRaftLog().getStartIndex();
        } catch (IOException e) {
            return -1;
        }
    }

    private void write(int batches, int from) {
        for (int i = from; i < from + batches; i++) {
            assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 4, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
    }
}
