package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kafka's DeleteRecords as a Raft entry on three real replicas: every replica ends with the same log
 * start offset, whether it applied the entry live, caught up through the Raft log after being down,
 * restarted, or installed a snapshot.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DeleteRecordsTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("events", 0);
    static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private RaftTestCluster cluster(Map<String, Object> extra) {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("grpc"));
        settings.putAll(extra);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "4096")));
        return cluster;
    }

    /** Appends {@code batches} batches of 4 records through the leader, with recent timestamps (retention.ms). */
    private void write(int batches) {
        for (int i = 0; i < batches; i++) {
            long timestamp = System.currentTimeMillis();
            assertThat(cluster.append(TP, Batches.batch(CompressionType.NONE, 4, timestamp), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
    }

    private static DeleteOutcome delete(RaftNode node, long beforeOffset) throws Exception {
        return node.deleteRecords(TP, beforeOffset).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void awaitLogStartOffset(long expected, String... ids) {
        RaftTestCluster.await(TIMEOUT, "log start offset " + expected + " on " + List.of(ids), () -> {
            for (String id : ids) {
                ReplicaStatus status = cluster.node(id).status(TP);
                if (status == null || status.logStartOffset() != expected) {
                    return false;
                }
            }
            return true;
        });
    }

    private void assertReadableFrom(long logStartOffset, String... ids) {
        for (String id : ids) {
            PartitionLog log = cluster.node(id).stateMachine(TP).log();
            assertThat(log.logStartOffset()).as("log start offset of %s", id).isEqualTo(logStartOffset);
            if (logStartOffset > 0) {
                assertThat(log.read(logStartOffset - 1, 1 << 20, Long.MAX_VALUE).error())
                        .as("a read below the log start offset on %s", id)
                        .isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
            }
            assertThat(log.read(logStartOffset, 1 << 20, Long.MAX_VALUE).error())
                    .isEqualTo(Errors.NONE);
        }
    }

    @ParameterizedTest(name = "single write {0}")
    @ValueSource(booleans = {true, false})
    void everyReplicaAdvancesItsLogStartOffsetAlikeAndKeepsItAcrossRestarts(boolean singleWrite) throws Exception {
        cluster(Map.of(RaftSettings.SINGLE_WRITE, singleWrite)).startAll(ALL);
        cluster.createPartition(TP, ALL);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        // A follower that misses everything catches up through the Raft log, entries below the new log
        // start offset included.
        String lagging = leader.id().equals("n3") ? "n2" : "n3";
        cluster.stop(lagging);
        write(20);

        DeleteOutcome deleted = delete(leader, 30);
        assertThat(deleted).isEqualTo(new DeleteOutcome(Errors.NONE, null, 30));
        assertThat(delete(leader, 10).lowWatermark())
                .as("an offset below the log start offset changes nothing")
                .isEqualTo(30);
        assertThat(delete(leader, 81).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(delete(leader, 81).lowWatermark()).isEqualTo(-1);
        assertThat(delete(leader, -2).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        String follower = List.of(ALL).stream()
                .filter(id -> !id.equals(leader.id()) && !id.equals(lagging))
                .findFirst()
                .orElseThrow();
        assertThat(delete(cluster.node(follower), 40).error()).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);

        // Restarted, the others no longer hold the entries' batches in memory: they read them back from
        // the segments to send them to the lagging replica.
        for (String id : ALL) {
            cluster.stop(id);
        }
        cluster.startAll(leader.id(), follower);
        cluster.start(lagging);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, ALL)).isEqualTo(80);
        assertThat(cluster.node(lagging).installer().lastInstall())
                .as("caught up through the Raft log, not by a snapshot install")
                .isNull();
        awaitLogStartOffset(30, ALL);
        assertReadableFrom(30, ALL);
        assertThat(cluster.segmentDifferences(TP, ALL)).isEmpty();

        // -1 deletes up to the high watermark; the partition keeps taking writes at the next offsets.
        write(5);
        RaftNode current = cluster.awaitLeader(TP, TIMEOUT);
        assertThat(delete(current, -1)).isEqualTo(new DeleteOutcome(Errors.NONE, null, 100));
        write(1);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, ALL)).isEqualTo(104);
        awaitLogStartOffset(100, ALL);

        for (String id : ALL) {
            cluster.stop(id);
        }
        cluster.startAll(ALL);
        AppendOutcome next =
                cluster.append(TP, Batches.batch(CompressionType.NONE, 4, System.currentTimeMillis()), TIMEOUT);
        assertThat(next.error()).isEqualTo(Errors.NONE);
        assertThat(next.firstOffset())
                .as("offsets are not reassigned after a restart")
                .isEqualTo(104);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, ALL)).isEqualTo(108);
        awaitLogStartOffset(100, ALL);
        assertReadableFrom(100, ALL);
        assertThat(cluster.segmentDifferences(TP, ALL)).isEmpty();
    }

    @Test
    void aReplicaThatInstallsASnapshotGetsTheLogStartOffsetAndRetentionRemovesTheHiddenSegments() throws Exception {
        cluster(Map.of(
                        RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 50L,
                        RaftSettings.PURGE_GAP_ENTRIES, 10,
                        RaftSettings.LOG_SEGMENT_BYTES, 8192L,
                        RaftSettings.RETENTION_CHECK_INTERVAL_MS, 100L))
                .startAll(ALL);
        cluster.createPartition(TP, ALL);
        write(60);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        // Just past the first segment, which then lies wholly below the log start offset.
        long cut = leader.stateMachine(TP).log().segments().get(1).baseOffset() + 1;
        assertThat(delete(leader, cut)).isEqualTo(new DeleteOutcome(Errors.NONE, null, cut));
        // Enough entries after it for every replica to snapshot past the delete and purge its Raft log.
        write(80);
        for (RaftNode node : cluster.nodes()) {
            RaftTestCluster.await(TIMEOUT, "the Raft log of " + node.id() + " to be purged", () -> {
                try {
                    return node.division(TP).getRaftLog().getStartIndex() > 62;
                } catch (Exception e) {
                    return false;
                }
            });
        }
        RaftTestCluster.await(TIMEOUT, "retention to delete the segments below the log start offset", () -> {
            return leader.stateMachine(TP).log().segments().get(0).baseOffset() == cut - 1;
        });

        cluster.start("n4");
        cluster.addReplica(TP, "n4", ALL);
        String[] four = {"n1", "n2", "n3", "n4"};
        assertThat(cluster.awaitConverged(TP, TIMEOUT, four)).isEqualTo(560);
        assertThat(cluster.node("n4").installer().lastInstall()).isNotNull();
        awaitLogStartOffset(cut, four);
        assertReadableFrom(cut, four);

        cluster.stop("n4");
        cluster.start("n4");
        write(1);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, four)).isEqualTo(564);
        assertReadableFrom(cut, "n4");
    }
}
