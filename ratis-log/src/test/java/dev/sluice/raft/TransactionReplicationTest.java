package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.AbortedTxn;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions on a replicated partition: transactional batches and COMMIT/ABORT markers written through
 * {@link RaftNode#writeTxnMarker} from a replica and from a node that holds no replica; every replica
 * keeps the same last stable offset and aborted-transaction index, also after a restart and after a
 * snapshot install.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransactionReplicationTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("payments", 0);
    static final String[] REPLICAS = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ByteBuffer txn(long pid, int epoch, int sequence, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] =
                    new SimpleRecord(1L, null, ("p" + pid + "-" + (sequence + i)).getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) epoch, sequence, records)
                .buffer();
    }

    private AppendOutcome append(ByteBuffer records) {
        AppendOutcome outcome = cluster.append(TP, records, TIMEOUT);
        assertThat(outcome.error()).as(outcome.errorMessage()).isEqualTo(Errors.NONE);
        return outcome;
    }

    private AppendOutcome marker(String via, List<RaftPeer> replicas, long pid, int epoch, TransactionResult result)
            throws Exception {
        return cluster.node(via)
                .writeTxnMarker(TP, replicas, pid, (short) epoch, 3, result, TIMEOUT.toMillis())
                .get(TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    }

    private void assertReplicasAgree(long lastStable, List<AbortedTxn> aborted, String... ids) {
        long hw = cluster.awaitConverged(TP, TIMEOUT, ids);
        for (String id : ids) {
            PartitionStateMachine stateMachine = cluster.node(id).stateMachine(TP);
            RaftTestCluster.await(
                    TIMEOUT, id + " to reach the high watermark", () -> stateMachine.highWatermark() == hw);
            assertThat(stateMachine.lastStableOffset())
                    .as("last stable offset on %s", id)
                    .isEqualTo(lastStable);
            assertThat(stateMachine.abortedTransactions(0, Long.MAX_VALUE))
                    .as("aborted transactions on %s", id)
                    .isEqualTo(aborted);
        }
    }

    @Test
    void replicasKeepTheSameLastStableOffsetAndAbortedIndexThroughRestartAndSnapshotInstall() throws Exception {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("grpc"));
        settings.put(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 50L);
        settings.put(RaftSettings.PURGE_GAP_ENTRIES, 10);
        settings.put(RaftSettings.LOG_SEGMENT_BYTES, 8192L);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "8192")));
        cluster.startAll("n1", "n2", "n3", "n4");
        cluster.createPartition(TP, REPLICAS);
        List<RaftPeer> replicas = cluster.peers(REPLICAS);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        String follower = leader.id().equals("n2") ? "n3" : "n2";

        assertThat(append(txn(500, 1, 0, 2)).firstOffset()).isZero(); // 0-1: pid 500 opens a transaction
        assertThat(append(Batches.batch(CompressionType.NONE, 1, 5)).firstOffset())
                .isEqualTo(2);
        assertThat(append(txn(501, 0, 0, 2)).firstOffset()).isEqualTo(3); // 3-4: pid 501 opens one
        assertThat(leader.stateMachine(TP).lastStableOffset()).isZero();

        // From a node that holds no replica of the partition, and from a follower.
        AppendOutcome commit = marker("n4", replicas, 500, 1, TransactionResult.COMMIT);
        assertThat(commit.error()).as(commit.errorMessage()).isEqualTo(Errors.NONE);
        assertThat(commit.firstOffset()).isEqualTo(5);
        AppendOutcome abort = marker(follower, replicas, 501, 0, TransactionResult.ABORT);
        assertThat(abort.firstOffset()).isEqualTo(6);
        assertReplicasAgree(7, List.of(new AbortedTxn(501, 3, 6, 7)), REPLICAS);

        assertThat(append(txn(502, 0, 0, 1)).firstOffset()).isEqualTo(7); // stays open
        assertThat(append(txn(500, 1, 2, 1)).firstOffset()).isEqualTo(8);
        // A marker of an older epoch is refused; one for a producer without a transaction adds nothing.
        assertThat(marker("n4", replicas, 500, 0, TransactionResult.ABORT).error())
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
        assertThat(marker("n4", replicas, 501, 0, TransactionResult.ABORT).firstOffset())
                .isEqualTo(9);
        assertThat(marker("n4", replicas, 500, 1, TransactionResult.ABORT).firstOffset())
                .isEqualTo(10);
        // A plain batch from a producer whose transaction is open is refused.
        assertThat(cluster.append(TP, Batches.idempotent(502, (short) 0, 1, 1, 1L), TIMEOUT)
                        .error())
                .isEqualTo(Errors.INVALID_TXN_STATE);
        List<AbortedTxn> aborted = List.of(new AbortedTxn(501, 3, 6, 7), new AbortedTxn(500, 8, 10, 7));
        assertReplicasAgree(7, aborted, REPLICAS);

        // Enough entries for snapshots and a purged Raft log; then a restarted replica and a new one.
        for (int i = 0; i < 200; i++) {
            append(Batches.batch(CompressionType.NONE, 1, i));
        }
        for (String id : REPLICAS) {
            RaftTestCluster.await(TIMEOUT, "the Raft log of " + id + " to be purged", () -> {
                try {
                    return cluster.node(id).division(TP).getRaftLog().getStartIndex() > 50;
                } catch (Exception e) {
                    return false;
                }
            });
        }
        assertReplicasAgree(7, aborted, REPLICAS);
        cluster.stop(follower);
        cluster.start(follower);
        assertReplicasAgree(7, aborted, REPLICAS);

        cluster.start("n5");
        cluster.addReplica(TP, "n5", REPLICAS);
        String[] all = {"n1", "n2", "n3", "n5"};
        assertReplicasAgree(7, aborted, all);
        assertThat(cluster.node("n5").installer().lastInstall()).isNotNull();

        // The open transaction ends through the new replica: the last stable offset catches up.
        AppendOutcome last = marker("n5", cluster.peers(all), 502, 0, TransactionResult.COMMIT);
        assertThat(last.error()).as(last.errorMessage()).isEqualTo(Errors.NONE);
        assertReplicasAgree(last.lastOffset() + 1, aborted, all);
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
    }
}
