package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.RaftEntryRange;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot install details beyond the transport contract: resuming, and retention against purge. */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SnapshotInstallTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("events", 0);

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private RaftTestCluster cluster(Map<String, Object> extra, Map<String, String> log) {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("grpc"));
        settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 50L);
        settings.put(RaftSettings.PURGE_GAP_ENTRIES, 10);
        settings.put(RaftSettings.LOG_SEGMENT_BYTES, 8192L);
        settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
        settings.putAll(extra);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(log));
        return cluster;
    }

    private void write(int batches) {
        for (int i = 0; i < batches; i++) {
            assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 4, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
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

    @Test
    void anInterruptedInstallResumesFromTheChunksAlreadyCopied() throws Exception {
        cluster(Map.of(), Map.of(LogConfig.SEGMENT_BYTES, "8192")).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        write(300);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        awaitPurged(leader);

        // What an install cut short leaves behind: the first part of the first segment, and a file the
        // leader no longer has.
        Path leaderFirst =
                NodeStore.partitionDir(cluster.dataDir(leader.id()), TP).resolve(String.format("%020d.log", 0));
        byte[] head = Files.readAllBytes(leaderFirst);
        int partial = head.length / 2;
        Path stage = cluster.dataDir("n4").resolve("install").resolve("events-0");
        Files.createDirectories(stage);
        Files.write(stage.resolve(String.format("%020d.log", 0)), java.util.Arrays.copyOf(head, partial));
        Files.write(stage.resolve(String.format("%020d.log", 999_999)), new byte[] {1, 2, 3});

        cluster.start("n4");
        cluster.addReplica(TP, "n4", "n1", "n2", "n3");
        String[] all = {"n1", "n2", "n3", "n4"};
        cluster.awaitConverged(TP, TIMEOUT, all);
        SnapshotInstaller.InstallStats stats = cluster.node("n4").installer().lastInstall();
        assertThat(stats).isNotNull();
        assertThat(stats.copiedBytes()).isEqualTo(stats.totalBytes() - partial);
        assertThat(Files.exists(stage)).isFalse();
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
    }

    @Test
    void retentionNeverDeletesBytesTheRaftLogStillRefersTo() throws Exception {
        cluster(
                        Map.of(RaftSettings.RETENTION_CHECK_INTERVAL_MS, 100L),
                        Map.of(LogConfig.SEGMENT_BYTES, "4096", LogConfig.RETENTION_BYTES, "8192"))
                .startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        String lagging = leader.id().equals("n3") ? "n2" : "n3";
        cluster.stop(lagging);
        for (int round = 0; round < 10; round++) {
            write(40);
            for (RaftNode node : cluster.nodes()) {
                assertRetentionBehindRaftLog(node);
            }
        }
        RaftTestCluster.await(
                TIMEOUT,
                "retention to delete old segments",
                () -> leader.status(TP).logStartOffset() > 0);

        // The lagging replica needs entries nobody has any more: it is sent a snapshot, not a gap.
        for (RaftNode node : cluster.nodes()) {
            awaitPurged(node);
        }
        cluster.start(lagging);
        cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3");
        assertThat(cluster.node(lagging).installer().lastInstall()).isNotNull();
        for (RaftNode node : cluster.nodes()) {
            assertRetentionBehindRaftLog(node);
        }
        write(5);
        cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3");
    }

    /**
     * A replica that must install a snapshot can be part of the only majority a new leader has. The new
     * leader is not ready (cannot serve linearizable reads or commit) until that replica holds the first
     * entry of its term, and the replica cannot take entries before it has installed: the install must
     * copy from the leader without waiting for it to be ready. Found by the 3-replica simulation with
     * fault seed 432 (frequent snapshots), where the partition took no writes while a node was down and
     * the installing replica never caught up.
     */
    @Test
    void aReplicaInstallsFromANewLeaderThatNeedsItForAMajority() throws Exception {
        cluster(Map.of(), Map.of(LogConfig.SEGMENT_BYTES, "8192")).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        cluster.awaitLeader(TP, TIMEOUT);
        cluster.stop("n1");
        write(300);
        for (RaftNode node : cluster.nodes()) {
            awaitPurged(node);
        }
        long committed = cluster.awaitConverged(TP, TIMEOUT, "n2", "n3");
        cluster.stop("n2");
        cluster.stop("n3");

        // n3 must lead (n1's log is older) and needs n1, which is behind n3's purged log, for a majority.
        cluster.start("n3");
        cluster.start("n1");
        assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 4, 300), TIMEOUT)
                        .firstOffset())
                .isEqualTo(committed);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, "n1", "n3")).isEqualTo(committed + 4);
        assertThat(cluster.node("n1").installer().lastInstall()).isNotNull();
        assertThat(cluster.segmentDifferences(TP, "n1", "n3")).isEmpty();
    }

    /** Every entry still in the node's Raft log has its bytes in the partition log. */
    private static void assertRetentionBehindRaftLog(RaftNode node) throws Exception {
        RaftServer.Division division = node.division(TP);
        PartitionStateMachine stateMachine = node.stateMachine(TP);
        stateMachine.lock().lock();
        try {
            PartitionLog log = stateMachine.log();
            RaftEntryRange oldest =
                    log.metadata().ceilingRaftEntry(division.getRaftLog().getStartIndex());
            if (oldest != null && !oldest.isEmpty()) {
                assertThat(log.logStartOffset())
                        .as("%s: log start vs the first entry of the Raft log (%s)", node.id(), oldest)
                        .isLessThanOrEqualTo(oldest.firstOffset());
            }
        } finally {
            stateMachine.lock().unlock();
        }
    }
}
