package dev.sluice.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.partitionstore.LogConfig;
import dev.sluice.partitionstore.NodeStore;
import dev.sluice.raft.testing.RaftTestCluster;
import dev.sluice.raft.transport.FaultInjector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLogBase;
import org.apache.ratis.util.AutoCloseableLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica restoring entries its segments lost while Ratis appends to its Raft log — the chaos run (seed 200, an
 * unsynced-write disk fault) in which queue-0 on node 2 never caught up again: the repair thread held the state
 * machine's lock and waited for the Raft log's lock to read an entry, while Ratis, holding the Raft log's write
 * lock to append, waited in {@code write} for the state machine's lock. Its log worker then waited for that
 * write for good, so the group's appends on the replica never completed (and, on Ratis's own Netty server, held
 * up every group sharing the leader's connection). Here the test plays Ratis's part: it holds the replica's Raft
 * log write lock while the repair thread reads the Raft log, then calls {@code truncate} as Ratis would under
 * that lock. Three real nodes on the faulty transport; the replica's requests to the others are lost, so that its
 * repair keeps trying.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RestoreDuringAppendTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final TopicPartition TP = new TopicPartition("restore-append", 0);
    private static final String[] ALL = {"n1", "n2", "n3"};

    @TempDir
    Path dir;

    private FaultInjector injector;
    private RaftTestCluster cluster;
    private AcknowledgedWrites writes;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            injector.healAll();
            cluster.close();
        }
        if (injector != null) {
            injector.close();
        }
    }

    @Test
    void shouldTakeRatisCallsWhileRestoringLostEntriesAndFinishTheRestoreAfterwards() throws Exception {
        String victim = stoppedFollowerWithATornSegment();

        for (String other : ALL) { // its repair's requests are lost, so it keeps trying; appends reach it
            if (!other.equals(victim)) {
                injector.cut(victim, other);
            }
        }
        RaftNode node = cluster.start(victim);
        RaftTestCluster.await(TIMEOUT, victim + " to restore", () -> node.storageHealth()
                .restoring()
                .contains(TP));
        RaftServer.Division division = node.division(TP);
        PartitionStateMachine stateMachine = (PartitionStateMachine) division.getStateMachine();
        assertThat(stateMachine.restoringLostData()).isTrue();

        CompletableFuture<?> truncated;
        AutoCloseableLock appending = ((RaftLogBase) division.getRaftLog()).writeLock();
        try {
            RaftTestCluster.await(TIMEOUT, "the repair to wait for the Raft log", RestoreDuringAppendTest::repairWaits);
            truncated = CompletableFuture.supplyAsync(() -> stateMachine.truncate(Long.MAX_VALUE / 2));
            try {
                truncated.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(
                        "truncate, called as Ratis calls it (holding the Raft log's write lock), waited for the state"
                                + " machine's lock the repair thread holds while it waits for the Raft log's lock",
                        e);
            }
        } finally {
            appending.close();
        }

        injector.healAll();
        RaftTestCluster.await(
                TIMEOUT,
                victim + " to restore its data",
                () -> node.storageHealth().lostDataRestored() == 1);
        writes.write(20);
        writes.checkConvergedAndStop(ALL);
    }

    /**
     * A replica whose lost data cannot be restored (no other replica answers it) is removed promptly: the chaos
     * run with seed 4001, where a node came back from a disk fault after its replicas had moved away. Replaying its
     * Raft log after the restart, the replica's applies waited for the lost data; Ratis removes a division only
     * once its applies have stopped, so the node's removal of the replica — and every later change of its replicas
     * — waited with them.
     */
    @Test
    void shouldRemoveAReplicaWhoseLostDataCannotBeRestored() throws Exception {
        String victim = stoppedFollowerWithATornSegment();
        injector.isolate(victim); // no other replica answers its repair: the lost data stays lost
        RaftNode node = cluster.start(victim);
        RaftTestCluster.await(TIMEOUT, victim + " to restore", () -> node.storageHealth()
                .restoring()
                .contains(TP));

        CompletableFuture<Void> removal = CompletableFuture.runAsync(() -> {
            try {
                node.removePartition(TP, true);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        removal.get(30, TimeUnit.SECONDS);
        assertThat(node.partitions()).doesNotContain(TP);
        injector.healAll();
    }

    /**
     * Three nodes on the faulty transport, 60 acknowledged writes; then a follower stopped and its newest segment
     * cut short (entries its Raft state says it has). Its restart replays its Raft log (no snapshot on stop).
     * Returns the follower.
     */
    private String stoppedFollowerWithATornSegment() throws Exception {
        injector = FaultInjector.register("restore-" + UUID.randomUUID(), 3);
        injector.setLostCallTimeoutMs(100);
        Map<String, Object> settings = new HashMap<>(RaftTestCluster.fastElections("faulty"));
        settings.put(RaftSettings.FAULT_INJECTOR, injector.name());
        settings.put(RaftSettings.SNAPSHOT_ON_STOP, false);
        cluster = new RaftTestCluster(dir, settings, LogConfig.parse(Map.of(LogConfig.SEGMENT_BYTES, "4096")));
        cluster.startAll(ALL);
        cluster.createPartition(TP, ALL);
        writes = new AcknowledgedWrites(cluster, TP, TIMEOUT);
        writes.write(60);
        String leader = cluster.awaitLeader(TP, TIMEOUT).id();
        String victim = leader.equals("n3") ? "n2" : "n3";
        cluster.awaitConverged(TP, TIMEOUT, ALL);
        cluster.stop(victim);
        DiskFaults.Damage damage =
                DiskFaults.truncateNewestSegmentBatches(NodeStore.partitionDir(cluster.dataDir(victim), TP), 5, 7);
        assertThat(damage.damaged()).as(damage.description()).isTrue();
        return victim;
    }

    /** Whether a repair thread is parked reading the Raft log to restore lost entries. */
    private static boolean repairWaits() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().startsWith("sluice-raft-repair"))
                .filter(e -> e.getKey().getState() == Thread.State.WAITING)
                .anyMatch(e -> Arrays.stream(e.getValue())
                        .anyMatch(frame -> frame.getMethodName().equals("restoreLostEntries")));
    }
}
