package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * KIP-890's verification guard on a replicated partition: a transactional batch checked with the coordinator
 * before its producer's transaction ended (the marker landed between the check and the append) is refused by
 * every replica instead of opening a transaction nobody ends, and so is one whose check was taken in an
 * earlier term of the partition's leadership. The hanging transactions of the chaos campaign's
 * txn-network-faults scenario were such batches: requests that waited out a network fault, then appended
 * after the producer had aborted.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LateTransactionalBatchTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("late", 0);
    static final String[] REPLICAS = {"n1", "n2", "n3"};
    static final long PID = 700;

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ByteBuffer txn(int sequence) {
        SimpleRecord record = new SimpleRecord(1L, null, ("v" + sequence).getBytes(StandardCharsets.UTF_8));
        return MemoryRecords.withTransactionalRecords(Compression.NONE, PID, (short) 0, sequence, record)
                .buffer();
    }

    private static AppendOutcome append(RaftNode node, ByteBuffer records, VerificationGuard guard) throws Exception {
        return node.append(TP, records, BatchValidator.Origin.CLIENT, guard).get(30, TimeUnit.SECONDS);
    }

    @Test
    void replicasRefuseABatchWhoseTransactionEndedAfterItsCheck() throws Exception {
        cluster = new RaftTestCluster(dir, RaftTestCluster.fastElections("grpc"), LogConfig.parse(Map.of()));
        cluster.startAll(REPLICAS);
        cluster.createPartition(TP, REPLICAS);
        List<RaftPeer> replicas = cluster.peers(REPLICAS);
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        PartitionStateMachine partition = leader.stateMachine(TP);

        AppendOutcome first = append(leader, txn(0), partition.verificationGuard());
        assertThat(first.error()).as(first.errorMessage()).isEqualTo(Errors.NONE);
        assertThat(first.firstOffset()).isZero(); // the transaction opens at offset 0

        // The producer's next batch is checked, then the transaction is aborted before the batch is appended.
        VerificationGuard beforeAbort = partition.verificationGuard();
        assertThat(beforeAbort.logEndOffset()).isEqualTo(1);
        AppendOutcome abort = leader.writeTxnMarker(
                        TP, replicas, PID, (short) 0, 1, TransactionResult.ABORT, TIMEOUT.toMillis())
                .get(35, TimeUnit.SECONDS);
        assertThat(abort.firstOffset()).isEqualTo(1);
        AppendOutcome late = append(leader, txn(1), beforeAbort);
        assertThat(late.error()).as(late.errorMessage()).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(late.errorMessage()).contains("ended at offset 1");

        // Nothing was written, on any replica: no transaction is open, the log ends after the marker.
        long hw = cluster.awaitConverged(TP, TIMEOUT, REPLICAS);
        assertThat(hw).isEqualTo(2);
        for (String id : REPLICAS) {
            PartitionStateMachine replica = cluster.node(id).stateMachine(TP);
            RaftTestCluster.await(TIMEOUT, id + " to apply the marker", () -> replica.highWatermark() == 2);
            assertThat(replica.lastStableOffset())
                    .as("last stable offset on %s", id)
                    .isEqualTo(2);
            assertThat(replica.hasOpenTransaction(PID, (short) 0))
                    .as("open on %s", id)
                    .isFalse();
        }

        // Checked after the marker, the same batch opens the producer's next transaction.
        AppendOutcome next = append(leader, txn(1), partition.verificationGuard());
        assertThat(next.error()).as(next.errorMessage()).isEqualTo(Errors.NONE);
        assertThat(next.firstOffset()).isEqualTo(2);
        assertThat(partition.hasOpenTransaction(PID, (short) 0)).isTrue();

        // A batch that continues the open transaction, checked in this term, is appended in a later term
        // only if checked again: the log may have been truncated in between.
        VerificationGuard oldTerm = partition.verificationGuard();
        String other = leader.id().equals("n1") ? "n2" : "n1";
        cluster.moveLeader(TP, other, TIMEOUT);
        RaftNode newLeader = cluster.awaitLeader(TP, TIMEOUT);
        assertThat(newLeader.id()).isEqualTo(other);
        AppendOutcome stale = append(newLeader, txn(2), oldTerm);
        assertThat(stale.error()).as(stale.errorMessage()).isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        AppendOutcome retried =
                append(newLeader, txn(2), newLeader.stateMachine(TP).verificationGuard());
        assertThat(retried.error()).as(retried.errorMessage()).isEqualTo(Errors.NONE);
        assertThat(retried.firstOffset()).isEqualTo(3);
        cluster.awaitConverged(TP, TIMEOUT, REPLICAS);
    }
}
