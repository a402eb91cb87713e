package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.testing.Batches;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every transport must provide: three (or four) real nodes on 127.0.0.1 replicating a partition.
 * Each transport runs the same tests through a subclass.
 */
@Timeout(value = 150, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
abstract class ReplicationContract {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("orders", 0);

    @TempDir
    Path dir;

    RaftTestCluster cluster;

    abstract String rpcType();

    RaftTestCluster cluster(Map<String, Object> extra) {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections(rpcType()));
        settings.putAll(extra);
        Map<String, String> log = Map.of(LogConfig.SEGMENT_BYTES, "8192");
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(log));
        return cluster;
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void writesAreReplicatedInOrderAndReplicasAreByteIdentical() throws Exception {
        cluster(Map.of()).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);

        List<CompletableFuture<AppendOutcome>> pending = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            pending.add(leader.append(TP, Batches.batch(compression(i), 5, 1_000L + i), origin()));
        }
        long expected = 0;
        for (CompletableFuture<AppendOutcome> future : pending) {
            AppendOutcome outcome = future.get();
            assertThat(outcome.error()).isEqualTo(Errors.NONE);
            assertThat(outcome.firstOffset()).isEqualTo(expected);
            assertThat(outcome.lastOffset()).isEqualTo(expected + 4);
            expected += 5;
        }
        assertThat(cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3")).isEqualTo(1000);
        assertThat(cluster.segmentDifferences(TP, "n1", "n2", "n3")).isEmpty();
        assertThat(leader.status(TP).inSyncReplicas()).containsExactly("n1", "n2", "n3");
        for (RaftNode node : cluster.nodes()) {
            ReplicaStatus status = node.status(TP);
            assertThat(status.leaderEpoch()).isEqualTo(leader.status(TP).leaderEpoch());
            assertThat(status.peers()).containsExactly("n1", "n2", "n3");
            assertThat(node.stateMachine(TP).log().segments()).hasSizeGreaterThan(1); // rolled identically
        }
    }

    @Test
    void killingTheLeaderLosesNoAcknowledgedBatchAndRetriesDoNotDuplicate() throws Exception {
        cluster(Map.of()).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        RaftNode first = cluster.awaitLeader(TP, TIMEOUT);
        long producerId = 4242;
        Map<Integer, Long> acknowledged = new TreeMap<>();
        int sequence = 0;
        for (; sequence < 100; sequence += 4) {
            AppendOutcome outcome = cluster.append(TP, idempotent(producerId, sequence), TIMEOUT);
            assertThat(outcome.error()).isEqualTo(Errors.NONE);
            acknowledged.put(sequence, outcome.firstOffset());
        }
        // Submit a few more without waiting, then kill the leader under them.
        List<Integer> inFlight = new ArrayList<>();
        for (int i = 0; i < 5; i++, sequence += 4) {
            first.append(TP, idempotent(producerId, sequence), origin());
            inFlight.add(sequence);
        }
        String killed = first.id();
        long killedAt = System.nanoTime();
        cluster.stop(killed);
        RaftNode second = cluster.awaitLeader(TP, TIMEOUT);
        long electionMs = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(second.id()).isNotEqualTo(killed);
        // "Within a few election timeouts" (400-800 ms here); generous, as the machine may be busy.
        assertThat(electionMs).as("new leader elected after %d ms", electionMs).isLessThan(10 * 800);

        // The client retries whatever it has not seen acknowledged, with the same sequence numbers.
        for (int retry : inFlight) {
            AppendOutcome outcome = cluster.append(TP, idempotent(producerId, retry), TIMEOUT);
            assertThat(outcome.error()).as("retry of sequence %d", retry).isEqualTo(Errors.NONE);
            acknowledged.put(retry, outcome.firstOffset());
        }
        // A retry of one of the producer's last five batches answers its original offsets.
        int recent = inFlight.get(inFlight.size() - 2);
        AppendOutcome again = cluster.append(TP, idempotent(producerId, recent), TIMEOUT);
        assertThat(again.error()).isEqualTo(Errors.NONE);
        assertThat(again.firstOffset()).isEqualTo(acknowledged.get(recent));
        // An out-of-order sequence and a stale epoch are refused.
        assertThat(cluster.append(TP, idempotent(producerId, sequence + 8), TIMEOUT)
                        .error())
                .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        assertThat(cluster.append(TP, Batches.idempotent(producerId, (short) 1, 0, 4, 1L), TIMEOUT)
                        .error())
                .as("a bumped epoch starts at sequence 0")
                .isEqualTo(Errors.NONE);
        assertThat(cluster.append(TP, idempotent(producerId, sequence), TIMEOUT).error())
                .as("the old epoch is fenced")
                .isEqualTo(Errors.INVALID_PRODUCER_EPOCH);

        cluster.start(killed);
        String[] all = {"n1", "n2", "n3"};
        long end = cluster.awaitConverged(TP, TIMEOUT, all);
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
        // Every sequence is in the log exactly once, at the offset its acknowledgement named.
        Map<String, Long> inLog = sequencesInLog(second, end);
        for (Map.Entry<Integer, Long> acked : acknowledged.entrySet()) {
            assertThat(inLog).containsEntry("0:" + acked.getKey(), acked.getValue());
        }
        assertThat(inLog).hasSize(acknowledged.size() + 1);
    }

    @Test
    void nodesRestartFromDiskAndContinue() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES, 40L)).startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        for (int i = 0; i < 100; i++) {
            assertThat(cluster.append(TP, Batches.batch(compression(i), 3, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
        cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3");
        for (String id : List.of("n1", "n2", "n3")) {
            cluster.stop(id);
        }
        cluster.startAll("n1", "n2", "n3");
        AppendOutcome next = cluster.append(TP, Batches.batch(compression(0), 3, 7), TIMEOUT);
        assertThat(next.error()).isEqualTo(Errors.NONE);
        assertThat(next.firstOffset()).isEqualTo(300);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3")).isEqualTo(303);
        assertThat(cluster.segmentDifferences(TP, "n1", "n2", "n3")).isEmpty();
    }

    @Test
    void aNewEmptyReplicaCatchesUpBySnapshotInstall() throws Exception {
        cluster(Map.of(
                        RaftSettings.SNAPSHOT_THRESHOLD_ENTRIES,
                        50L,
                        RaftSettings.PURGE_GAP_ENTRIES,
                        10,
                        RaftSettings.LOG_SEGMENT_BYTES,
                        8192L,
                        RaftSettings.INSTALL_CHUNK_BYTES,
                        16 * 1024))
                .startAll("n1", "n2", "n3");
        cluster.createPartition(TP, "n1", "n2", "n3");
        for (int i = 0; i < 300; i++) {
            assertThat(cluster.append(TP, Batches.batch(compression(i), 4, i), TIMEOUT)
                            .error())
                    .isEqualTo(Errors.NONE);
        }
        RaftNode leader = cluster.awaitLeader(TP, TIMEOUT);
        cluster.awaitConverged(TP, TIMEOUT, "n1", "n2", "n3");
        for (RaftNode node : cluster.nodes()) {
            node.snapshot(TP);
        }
        // One more round of writes lets Ratis purge its log behind the snapshots.
        for (int i = 0; i < 100; i++) {
            cluster.append(TP, Batches.batch(compression(i), 4, i), TIMEOUT);
        }
        RaftTestCluster.await(TIMEOUT, "the leader's Raft log to be purged", () -> {
            try {
                return leader.division(TP).getRaftLog().getStartIndex() > 1;
            } catch (Exception e) {
                return false;
            }
        });

        cluster.start("n4");
        cluster.addReplica(TP, "n4", "n1", "n2", "n3");
        String[] all = {"n1", "n2", "n3", "n4"};
        assertThat(cluster.awaitConverged(TP, TIMEOUT, all)).isEqualTo(1600);
        assertThat(cluster.segmentDifferences(TP, all)).isEmpty();
        // The new replica serves reads and takes part in later writes.
        LogReadResult read = cluster.node("n4").stateMachine(TP).log().read(0, 1 << 20, 1600);
        assertThat(read.error()).isEqualTo(Errors.NONE);
        assertThat(cluster.append(TP, Batches.batch(compression(1), 4, 9), TIMEOUT)
                        .firstOffset())
                .isEqualTo(1600);
        assertThat(cluster.awaitConverged(TP, TIMEOUT, all)).isEqualTo(1604);
    }

    static ByteBuffer idempotent(long producerId, int sequence) {
        return Batches.idempotent(producerId, (short) 0, sequence, 4, 1_000L + sequence);
    }

    static org.apache.kafka.common.record.internal.CompressionType compression(int i) {
        return i % 3 == 0
                ? org.apache.kafka.common.record.internal.CompressionType.NONE
                : i % 3 == 1
                        ? org.apache.kafka.common.record.internal.CompressionType.LZ4
                        : org.apache.kafka.common.record.internal.CompressionType.ZSTD;
    }

    static dev.sluice.partitionstore.BatchValidator.Origin origin() {
        return dev.sluice.partitionstore.BatchValidator.Origin.CLIENT;
    }

    /** "epoch:baseSequence" → base offset of every batch with a producer id in the node's log. */
    static Map<String, Long> sequencesInLog(RaftNode node, long end) {
        Map<String, Long> result = new TreeMap<>();
        long next = 0;
        while (next < end) {
            LogReadResult read = node.stateMachine(TP).log().read(next, 1 << 20, end);
            for (RecordBatch batch : read.memoryRecords().batches()) {
                if (batch.hasProducerId()) {
                    Long previous = result.put(batch.producerEpoch() + ":" + batch.baseSequence(), batch.baseOffset());
                    assertThat(previous)
                            .as("sequence %d twice", batch.baseSequence())
                            .isNull();
                }
                next = batch.nextOffset();
            }
        }
        return result;
    }
}
