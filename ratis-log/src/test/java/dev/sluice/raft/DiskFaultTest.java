package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.BatchValidator;
import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.LogReadResult;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.partitionstore.PartitionLog;
import dev.sluice.raft.testing.RaftTestCluster;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The disk faults of the chaos runs' nemesis ({@link DiskFaults}), one at a time, on one replica of three
 * real Raft nodes on 127.0.0.1: acknowledged batches are written, the replica is stopped, its files are
 * damaged, it restarts and more batches are written. Then every acknowledged batch is read back exactly
 * once, at its offset, from every replica; the replicas' segment files are byte-identical; and the checks
 * of {@code sluice dump --verify} pass on every node's data directory.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DiskFaultTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final TopicPartition TP = new TopicPartition("disk", 0);
    static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    RaftTestCluster cluster;
    AcknowledgedWrites writes;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private RaftTestCluster cluster(Map<String, Object> extra) {
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("grpc"));
        settings.put(RaftSettings.INSTALL_CHUNK_BYTES, 4096);
        settings.put(RaftSettings.SCRUB_BYTES_PER_SECOND, 1024L * 1024);
        settings.putAll(extra);
        cluster = new RaftTestCluster(
                dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, segmentBytes(extra))));
        cluster.startAll(ALL);
        try {
            cluster.createPartition(TP, ALL);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        writes = new AcknowledgedWrites(cluster, TP, TIMEOUT);
        return cluster;
    }

    /** Small partition segments, so that there are closed ones; one large one when the Raft log is small. */
    private static String segmentBytes(Map<String, Object> extra) {
        return extra.containsKey(RaftSettings.LOG_SEGMENT_BYTES) ? "1048576" : "4096";
    }

    private void write(int count) {
        writes.write(count);
    }

    private String leaderId() {
        return cluster.awaitLeader(TP, TIMEOUT).id();
    }

    private String followerId() {
        String leader = leaderId();
        return leader.equals("n3") ? "n2" : "n3";
    }

    /** More writes, convergence, and every check of the class comment. */
    private void writeMoreAndCheckEverything() throws Exception {
        write(20);
        writes.checkConvergedAndStop(ALL);
    }

    private Path partitionDir(String id) {
        return NodeStore.partitionDir(cluster.dataDir(id), TP);
    }

    // ---- 0. batches written but never recorded (a process killed in between) --------------------------------

    /**
     * A replica's process stopped after an entry's batches reached its segment and before their offsets were
     * recorded; the entry never reached its Raft log, and the batch came again later as another entry (the
     * producer's retry, under the next leader). The replica must drop the unowned batches when it opens the
     * partition: kept, they would stand in the log before the retry, which would be judged their duplicate.
     */
    @Test
    void shouldDropBatchesWrittenButNeverRecordedByAStoppedReplica() throws Exception {
        cluster(Map.of());
        write(20);
        String victim = followerId();
        long end = cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        try (NodeStore store = NodeStore.open(cluster.dataDir(victim), dev.sluice.partitionstore.Clock.SYSTEM)) {
            PartitionLog log = store.openPartition(TP, cluster.logConfig());
            assertThat(log.logEndOffset()).isEqualTo(end);
            var unowned = log.append(writes.nextSequenceWithOtherValues().buffer(), 99, BatchValidator.Origin.CLIENT);
            assertThat(unowned.succeeded()).isTrue();
            log.flush();
        }

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    // ---- 1. a flipped bit in a closed segment ------------------------------------------------------------------

    @Test
    void shouldRepairBitFlipInClosedSegmentOfFollower() throws Exception {
        cluster(Map.of());
        write(80);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage = DiskFaults.flipBitInClosedSegment(cluster.dataDir(victim), new Random(7));
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        RaftTestCluster.await(
                TIMEOUT,
                "the scrub of " + victim + " to find and repair the damage",
                () -> cluster.node(victim).storageHealth().damagedSegmentsRepaired() == 1);
        assertThat(cluster.node(victim).storageHealth().damagedSegmentsFound()).isEqualTo(1);
        writeMoreAndCheckEverything();
    }

    @Test
    void shouldRepairBitFlipInClosedSegmentOfLeader() throws Exception {
        // No scrub: the damage is found by a read while the damaged replica leads.
        cluster(Map.of(RaftSettings.SCRUB_BYTES_PER_SECOND, 0L));
        write(80);
        String victim = leaderId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        Path segment = partitionDir(victim).resolve(String.format("%020d.log", 0));
        DiskFaults.Damage damage = DiskFaults.flipBit(segment, insideSecondBatch(segment), 3);
        assertThat(damage.damaged()).isTrue();
        cluster.start(victim);
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        RaftTestCluster.await(TIMEOUT, victim + " to lead again", () -> {
            try {
                return cluster.node(victim).transferLeadership(TP, victim, 5_000)
                        && cluster.node(victim).status(TP).isLeader();
            } catch (java.io.IOException e) {
                return false;
            }
        });

        // A consumer reading from the start runs into the damage: it is never served.
        PartitionLog log = cluster.node(victim).stateMachine(TP).log();
        LogReadResult read = log.read(0, 1 << 20, Long.MAX_VALUE);
        long next = 0;
        while (read.error() == Errors.NONE && read.sizeInBytes() > 0) {
            for (RecordBatch batch : read.memoryRecords().batches()) {
                assertThat(batch.isValid()).isTrue();
                next = batch.nextOffset();
            }
            read = log.read(next, 1 << 20, Long.MAX_VALUE);
        }
        assertThat(read.error()).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        assertThat(read.errorMessage()).contains(segment.toString()).contains("CRC mismatch");
        RaftTestCluster.await(TIMEOUT, victim + " to hand leadership away and repair the segment", () -> {
            StorageHealth health = cluster.node(victim).storageHealth();
            return health.damagedSegmentsRepaired() == 1
                    && !victim.equals(cluster.awaitLeader(TP, TIMEOUT).id());
        });
        assertThat(cluster.node(victim)
                        .stateMachine(TP)
                        .log()
                        .read(0, 1 << 20, Long.MAX_VALUE)
                        .error())
                .isEqualTo(Errors.NONE);
        writeMoreAndCheckEverything();
    }

    /**
     * The damaged batch lies after the snapshot (none at the stop), where the replica reads its log again on
     * restart: the log is cut there and what follows is fetched again from the other replicas.
     */
    @Test
    void shouldRepairBitFlipInClosedSegmentAboveTheSnapshot() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(80);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        Path segment = partitionDir(victim).resolve(String.format("%020d.log", 0));
        assertThat(DiskFaults.flipBit(segment, insideSecondBatch(segment), 1).damaged())
                .isTrue();

        cluster.start(victim);
        RaftTestCluster.await(
                TIMEOUT,
                victim + " to restore its data",
                () -> cluster.node(victim).storageHealth().lostDataRestored() == 1);
        writeMoreAndCheckEverything();
    }

    // ---- 2. the tail of the newest segment cut off -------------------------------------------------------------

    /**
     * The node stops cleanly (a snapshot at the last applied entry), so the lost bytes are committed, applied
     * data below the snapshot: Ratis will not replay it, the replica copies it back from another one.
     */
    @ParameterizedTest(name = "{0} whole batches and {1} bytes more")
    @CsvSource({"0, 5", "1, 0", "4, 3"})
    void shouldRestoreTruncatedTailOfNewestSegmentBelowTheSnapshot(int batches, int extraBytes) throws Exception {
        cluster(Map.of());
        write(60);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage = DiskFaults.truncateNewestSegmentBatches(partitionDir(victim), batches, extraBytes);
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        RaftTestCluster.await(
                TIMEOUT,
                victim + " to restore its data",
                () -> cluster.node(victim).storageHealth().lostDataRestored() == 1);
        writeMoreAndCheckEverything();
    }

    /**
     * No snapshot at the stop: the lost bytes belong to applied entries still in the Raft log, which Ratis
     * replays on restart without their data; the replica fetches each entry's batches from another one.
     */
    @Test
    void shouldRestoreTruncatedTailOfNewestSegmentAboveTheSnapshot() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(60);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage = DiskFaults.truncateNewestSegmentBatches(partitionDir(victim), 5, 7);
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        RaftTestCluster.await(
                TIMEOUT,
                victim + " to restore its data",
                () -> cluster.node(victim).storageHealth().lostDataRestored() == 1);
        writeMoreAndCheckEverything();
    }

    @Test
    void shouldRestoreTruncatedTailOfNewestSegmentOfTheOldLeader() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(60);
        String victim = leaderId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        write(10); // the others go on while it is down
        DiskFaults.Damage damage = DiskFaults.truncateNewestSegment(cluster.dataDir(victim), new Random(11));
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    /**
     * The lost bytes belong to entries the other replicas have already purged from their Raft logs (they are
     * committed, below their snapshots): those are copied as the committed bytes at the offsets the entries
     * had, the later ones entry by entry.
     */
    @Test
    void shouldRestoreLostEntriesThatOtherReplicasPurged() throws Exception {
        cluster(Map.of(
                RaftSettings.SNAPSHOT_ON_STOP,
                false,
                RaftSettings.LOG_SEGMENT_BYTES,
                8192L,
                RaftSettings.PURGE_GAP_ENTRIES,
                1));
        write(300);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        long purgedBelow = Long.MAX_VALUE;
        for (String id : ALL) {
            if (!id.equals(victim)) {
                cluster.node(id).snapshot(TP);
            }
        }
        for (String id : ALL) {
            if (!id.equals(victim)) {
                RaftTestCluster.await(TIMEOUT, id + " to purge its Raft log", () -> raftLogStart(id) > 1);
                purgedBelow = Math.min(purgedBelow, raftLogStart(id));
            }
        }
        // Cut the victim's segment where the last purged entry's batches start.
        PartitionStateMachine victimState = cluster.node(victim).stateMachine(TP);
        long offset =
                victimState.log().metadata().floorRaftEntry(purgedBelow - 1).firstOffset();
        dev.sluice.partitionstore.OffsetPosition at = victimState.log().locate(offset);
        assertThat(at).as("the batch at offset %d", offset).isNotNull();
        cluster.stop(victim);
        Path segment = partitionDir(victim).resolve(String.format("%020d.log", at.segmentBaseOffset()));
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(segment.toFile(), "rw")) {
            raf.setLength(at.position());
        }

        cluster.start(victim);
        RaftTestCluster.await(
                TIMEOUT,
                victim + " to restore its data",
                () -> cluster.node(victim).storageHealth().lostDataRestored() == 1);
        writeMoreAndCheckEverything();
    }

    private long raftLogStart(String id) {
        try {
            return cluster.node(id).division(TP).getRaftLog().getStartIndex();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    // ---- 3. the tail of the Raft log cut off -------------------------------------------------------------------

    @Test
    void shouldRecoverTornLastEntryOfRaftLog() throws Exception {
        cluster(Map.of());
        write(40);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage = DiskFaults.tearRaftLog(DiskFaults.raftGroupDir(cluster.dataDir(victim), TP), 3);
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    /**
     * Whole entries lost from the Raft log while their batches stay in the segment (no snapshot at the stop,
     * so they are above it): the replica drops those batches and takes the entries again from the leader.
     */
    @Test
    void shouldRecoverRaftLogTruncatedByWholeEntries() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(40);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage =
                DiskFaults.truncateRaftLogEntries(DiskFaults.raftGroupDir(cluster.dataDir(victim), TP), 4);
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    /**
     * A flipped bit in the last entry of the Raft log (its checksum no longer matches): Ratis's default
     * corruption policy would keep the group from starting; Sluice's drops the entry, as if torn.
     */
    @Test
    void shouldStartWithACorruptLastEntryOfRaftLog() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(40);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        Path log = DiskFaults.raftGroupDir(cluster.dataDir(victim), TP).resolve("current/log_inprogress_0");
        java.util.List<Integer> ends = RaftLogFiles.entryEnds(log);
        int lastStart = ends.get(ends.size() - 2);
        assertThat(DiskFaults.flipBit(log, lastStart + 3, 0).damaged()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    /**
     * Whole entries lost from the Raft log below the snapshot taken at the clean stop: the log ends before its
     * snapshot, and must continue after it.
     */
    @Test
    void shouldRecoverRaftLogTruncatedBelowTheSnapshot() throws Exception {
        cluster(Map.of());
        write(40);
        String victim = followerId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage =
                DiskFaults.truncateRaftLogEntries(DiskFaults.raftGroupDir(cluster.dataDir(victim), TP), 4);
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    @Test
    void shouldRecoverRaftLogTruncatedBySeededFault() throws Exception {
        cluster(Map.of(RaftSettings.SNAPSHOT_ON_STOP, false));
        write(40);
        String victim = leaderId();
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage = DiskFaults.truncateRaftLog(cluster.dataDir(victim), new Random(3));
        assertThat(damage.damaged()).as(damage.description()).isTrue();

        cluster.start(victim);
        writeMoreAndCheckEverything();
    }

    /** A position inside the records of the second batch of a segment file (covered by the batch's CRC). */
    private static long insideSecondBatch(Path segment) throws java.io.IOException {
        ByteBuffer data = ByteBuffer.wrap(java.nio.file.Files.readAllBytes(segment));
        int second = dev.sluice.partitionstore.BatchHeader.sizeInBytes(data, 0);
        return second + dev.sluice.partitionstore.BatchHeader.HEADER_BYTES + 5;
    }
}
